"""Applications: list, look up, change, delete (import and export: :mod:`.manifests`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, ids, jobcounts
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.models import Application, RunTemplate
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, apply_changes, paginate, transaction

#: what :func:`update` may change; the rest comes from the manifest (re-import it)
EDITABLE = ("enabled", "title", "description", "homepage", "ociimage", "timeout", "image")


def get(session: Session, ref: int | str) -> Application:
    """An application by id, uuid or name."""
    app: Application | None
    if isinstance(ref, int) or ids.looks_like_id(ref):
        number = ref if isinstance(ref, int) else ids.parse(ref)
        app = session.get(Application, number) if ids.is_id(number) else None
    else:
        app = session.scalar(
            sa.select(Application).where(sa.or_(Application.uuid == ref, Application.name == ref))
        )
    if app is None:
        raise NotFound("application", ref)
    return app


def list_applications(
    session: Session,
    *,
    enabled: bool | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Application]:
    """Applications by id; ``search`` matches name, title or a tag-like part of the name."""
    query = sa.select(Application)
    if enabled is not None:
        query = query.where(Application.enabled == enabled)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(Application.name).like(pattern),
                sa.func.lower(sa.func.coalesce(Application.title, "")).like(pattern),
            )
        )
    return paginate(session, query, Application.id, limit, offset)


def update(
    session: Session, ref: int | str, changes: Mapping[str, Any], *, actor: Actor
) -> Application:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            msg("application not changed"),
            [(k, msg("not editable here (re-import the manifest to change it)")) for k in unknown],
        )
    timeout = changes.get("timeout")
    if timeout is not None and (
        not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= ids.MAX_ID
    ):
        raise ValidationError(
            msg("application not changed"),
            [
                (
                    "timeout",
                    msg("must be a whole number of seconds from 1 to {max_id}", max_id=ids.MAX_ID),
                )
            ],
        )
    app = get(session, ref)
    with transaction(session):
        changed = apply_changes(app, changes)
        if changed:
            audit.record(
                session,
                actor,
                "update",
                "application",
                app.id,
                details={"changed": sorted(changed)},
            )
    return app


def delete(session: Session, ref: int | str, *, actor: Actor, force: bool = False) -> int:
    """Delete an application; returns how many run templates went with it.

    An application that run templates use is refused unless ``force`` is given,
    which deletes those run templates (and their jobs) too.
    """
    app = get(session, ref)
    templates = session.scalars(
        sa.select(RunTemplate).where(RunTemplate.application_id == app.id)
    ).all()
    if templates and not force:
        raise Conflict(
            msg(
                "application {name} is used by {count} run template(s); delete them first, or "
                "force the deletion",
                name=app.name,
                count=len(templates),
            )
        )
    with transaction(session):
        jobcounts.delete_jobs_of(session, templates)
        for run_template in templates:
            session.delete(run_template)
        session.flush()
        audit.record(
            session,
            actor,
            "delete",
            "application",
            app.id,
            details={
                "name": app.name,
                "uuid": app.uuid,
                "run_templates_removed": [t.id for t in templates],
            },
        )
        session.delete(app)
    return len(templates)


__all__ = [
    "EDITABLE",
    "delete",
    "get",
    "list_applications",
    "update",
]
