"""Applications: lookup by id, uuid or name; audited changes; guarded deletion."""

import pytest

from multiflexi.core import apps, audit, companies
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.models import Application, Job, RunTemplate
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test")


def test_lookup_by_id_uuid_and_name(session, app):
    app.uuid = "4b2c5d1e-8f9a-4b3c-9d2e-1f0a9b8c7d6e"
    session.commit()
    assert apps.get(session, app.id) is app
    assert apps.get(session, str(app.id)) is app
    assert apps.get(session, app.uuid) is app
    assert apps.get(session, "probe") is app
    with pytest.raises(NotFound, match="application nope not found"):
        apps.get(session, "nope")


def test_update_is_checked_and_audited(session, app):
    apps.update(session, app.id, {"enabled": False, "timeout": 600}, actor=ACTOR)
    assert (apps.get(session, app.id).enabled, apps.get(session, app.id).timeout) == (False, 600)
    with pytest.raises(ValidationError, match="executable: not editable"):
        apps.update(session, app.id, {"executable": "/bin/sh"}, actor=ACTOR)
    with pytest.raises(ValidationError, match="timeout"):
        apps.update(session, app.id, {"timeout": -1}, actor=ACTOR)
    page = audit.entries(session, entity_type="application")
    rows, total = page.items, page.total
    assert total == 1 and rows[0].details == {"changed": ["enabled", "timeout"]}


def test_delete_of_a_used_application_needs_force(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    companies.assign_application(session, company.id, app.id, actor=ACTOR)
    with pytest.raises(Conflict, match="used by 1 run template"):
        apps.delete(session, app.id, actor=ACTOR)
    assert count(session, Application) == 1
    assert apps.delete(session, app.id, actor=ACTOR, force=True) == 1
    assert (count(session, Application), count(session, RunTemplate), count(session, Job)) == (
        0,
        0,
        0,
    )
    assert [r.action for r in audit.entries(session, entity_type="application").items] == ["delete"]
