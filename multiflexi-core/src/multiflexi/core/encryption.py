"""The key ring as a business concern: its status, its first key, rotation.

The cryptography lives in :mod:`multiflexi.core.crypto`; this module gives the
faces (CLI ``encryption status|init|rotate``, the API) one audited function
each, using the session's settings for ENCRYPTION_MASTER_KEY.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, companies, crypto, fieldtypes, jobenv, vault
from multiflexi.core.audit import Actor
from multiflexi.core.config import settings_of
from multiflexi.core.errors import ConfigurationError, DecryptionError, MultiFlexiError
from multiflexi.core.models import (
    ApplicationField,
    CompanyVariable,
    EncryptionKey,
    RunTemplate,
    RunTemplateValue,
)
from multiflexi.core.unit import transaction
from multiflexi.database.tables import ENCRYPTED_COLUMNS, metadata


@dataclasses.dataclass(frozen=True)
class KeyStatus:
    key_id: str
    version: int
    active: bool
    created_at: dt.datetime
    retired_at: dt.datetime | None
    sealed_values: int


@dataclasses.dataclass(frozen=True)
class Status:
    master_key_set: bool
    master_key_matches: bool | None
    keys: list[KeyStatus]
    #: values stored in clear that today's rule calls secret (see :func:`seal_plain_secrets`)
    plain_secrets: int = 0


def _sealed_counts(session: Session) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table_name, _column, key_column in ENCRYPTED_COLUMNS:
        table = metadata.tables[table_name]
        rows = session.execute(
            sa.select(table.c[key_column], sa.func.count())
            .where(table.c[key_column].is_not(None))
            .group_by(table.c[key_column])
        ).all()
        for key_id, number in rows:
            counts[key_id] = counts.get(key_id, 0) + number
    return counts


def status(session: Session) -> Status:
    """Which keys exist, which one is active, how many values each seals, and
    whether the configured master key opens them (None when there are no keys)."""
    settings = settings_of(session)
    keys = session.scalars(sa.select(EncryptionKey).order_by(EncryptionKey.version)).all()
    matches: bool | None = None
    if keys and settings.master_key:
        try:
            crypto.KeyRing.load(session.connection(), settings.master_key)
            matches = True
        except MultiFlexiError:
            matches = False
    counts = _sealed_counts(session)
    return Status(
        master_key_set=bool(settings.master_key),
        master_key_matches=matches,
        plain_secrets=len(_plain_secrets(session)),
        keys=[
            KeyStatus(
                k.key_id,
                k.version,
                k.is_active,
                k.created_at,
                k.retired_at,
                counts.get(k.key_id, 0),
            )
            for k in keys
        ],
    )


def _plain_secrets(session: Session) -> list[tuple[Any, str]]:
    """Run-template values and company variables stored in clear that are secret today.

    Values saved before a field became secret (by its name, see
    :func:`multiflexi.core.fieldtypes.is_secret_name`, or by a manifest update that
    made it a password) stay in clear until saved again; these are they.
    """
    found: list[tuple[Any, str]] = []
    values = session.execute(
        sa.select(RunTemplateValue, ApplicationField)
        .join(RunTemplate, RunTemplate.id == RunTemplateValue.run_template_id)
        .outerjoin(
            ApplicationField,
            sa.and_(
                ApplicationField.application_id == RunTemplate.application_id,
                ApplicationField.name == RunTemplateValue.name,
            ),
        )
        .where(RunTemplateValue.key_id.is_(None), RunTemplateValue.value != "")
        .order_by(RunTemplateValue.id)
    ).all()
    for row, field in values:
        secret = field.is_secret if field is not None else fieldtypes.is_secret_name(row.name)
        if secret:
            found.append((row, jobenv.VALUE_CONTEXT))
    variables = session.scalars(
        sa.select(CompanyVariable)
        .where(CompanyVariable.key_id.is_(None), CompanyVariable.value != "")
        .order_by(CompanyVariable.id)
    ).all()
    for variable in variables:
        if variable.secret or fieldtypes.is_secret_name(variable.name):
            found.append((variable, companies.ENV_CONTEXT))
    return found


def seal_plain_secrets(session: Session, *, actor: Actor) -> int:
    """Seal the values stored in clear that are secret by today's rule; how many.

    For an upgrade that made more fields secret (``multiflexi-cli encryption seal``);
    running it again finds nothing. One transaction; an audit row names the count.
    """
    with transaction(session):
        found = _plain_secrets(session)
        for row, context in found:
            row.value, row.key_id = vault.seal(session, row.value, context)
            if isinstance(row, CompanyVariable):
                row.secret = True
        if found:
            audit.record(
                session,
                actor,
                "seal",
                "encryption_key",
                vault.keyring(session).active.key_id,
                details={"values": len(found)},
            )
    return len(found)


def check_master_key(session: Session) -> None:
    """Refuse, naming the setting, a master key that is unset or does not open the database's keys.

    For a process that will need secrets (an executor worker checks when it starts
    rather than failing each job). A database without keys yet passes: nothing is
    sealed.
    """
    master = crypto.MasterKey(settings_of(session).require_master_key())
    try:
        if session.scalar(sa.select(sa.func.count()).select_from(EncryptionKey)):
            crypto.KeyRing.load(session.connection(), master)
    except DecryptionError:
        raise ConfigurationError(
            "ENCRYPTION_MASTER_KEY",
            "does not match the key that encrypted this database's secrets; "
            "set the one its keys were made with",
        ) from None
    finally:
        session.rollback()


def init(session: Session, *, actor: Actor) -> str:
    """Create the first data key if there is none; returns the active key id."""
    master = settings_of(session).require_master_key()
    with transaction(session):
        had = session.scalar(sa.select(sa.func.count()).select_from(EncryptionKey)) or 0
        ring = crypto.init_keyring(session.connection(), master)
        if not had:
            audit.record(session, actor, "create", "encryption_key", ring.active.key_id)
    vault.forget(session)
    return ring.active.key_id


def rotate(session: Session, *, actor: Actor) -> str:
    """A new active key; every sealed value is re-encrypted under it in one transaction."""
    master = settings_of(session).require_master_key()
    with transaction(session):
        crypto.init_keyring(session.connection(), master)
        ring = crypto.rotate(session.connection(), master)
        audit.record(
            session,
            actor,
            "rotate",
            "encryption_key",
            ring.active.key_id,
            details={"version": ring.active.version},
        )
    vault.forget(session)
    return ring.active.key_id


__all__ = [
    "KeyStatus",
    "Status",
    "check_master_key",
    "init",
    "rotate",
    "seal_plain_secrets",
    "status",
]
