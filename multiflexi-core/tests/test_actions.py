"""A run template's actions after success and failure: catalogue, validation, sealing, audit,
access (multiflexi.core.actions)."""

from __future__ import annotations

import json
import sys

import pytest
import sqlalchemy as sa

from multiflexi.core import (
    access,
    actions,
    audit,
    companies,
    crypto,
    encryption,
    redaction,
    runtemplates,
    users,
)
from multiflexi.core.errors import NotFound, PermissionDenied, ValidationError
from multiflexi.core.models import AuditEntry, RunTemplateAction

ADMIN = audit.Actor.cli()
SECRET_URL = "https://hooks.example/notify?token=PLANTED-action-url-5a1e"


@pytest.fixture
def world(session, app):
    made = {}
    for name in ("Alpha", "Beta"):
        company = companies.create(session, name=name, actor=ADMIN)
        for rt_name in ("main", "next"):
            rt = runtemplates.create(
                session,
                company=company.id,
                app_id=app.id,
                actor=ADMIN,
                name=rt_name,
                active=False,
                values={"ENDPOINT": "https://erp.example"},
            )
            made[f"{name}.{rt_name}"] = rt.id
        made[name] = company.id
    return made


def principal(session, login, company_id, role):
    user = users.create(session, login, actor=ADMIN)
    users.grant(session, company_id, user.id, role, actor=ADMIN)
    return access.principal_for(session, user, source="test")


def stored(session, rt_id):
    session.expire_all()
    return session.scalars(
        sa.select(RunTemplateAction)
        .where(RunTemplateAction.run_template_id == rt_id)
        .order_by(RunTemplateAction.mode, RunTemplateAction.position)
    ).all()


def problems(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def test_the_catalogue_declares_the_built_in_kinds_and_a_webhooks_url_is_secret():
    names = [k.name for k in actions.kinds()]
    assert names[:4] == ["webhook", "chain", "reschedule", "deactivate"]
    webhook = actions.BUILTIN["webhook"]
    url = webhook.option("url")
    assert url is not None and (url.type, url.required, url.secret) == ("url", True, True)
    assert webhook.option("timeout").default == 10
    assert actions.BUILTIN["reschedule"].option("delay").default == 3600
    assert actions.BUILTIN["chain"].option("run_template_id").type == "run_template"
    assert actions.secret_names("webhook") == ("url",)
    assert actions.secret_names("reschedule") == ()
    assert crypto.column_context("run_template_actions", "secrets") == actions.SECRETS_CONTEXT


def test_a_webhooks_url_is_sealed_shown_redacted_and_opened_for_the_executor(session, world):
    rt = world["Alpha.main"]
    lists = actions.set_actions(
        session,
        rt,
        {
            "success": [
                {"action": "webhook", "options": {"url": SECRET_URL, "timeout": "5"}},
                {"action": "chain", "options": {"run_template_id": world["Alpha.next"]}},
            ],
            "failure": [{"action": "reschedule", "options": {"delay": 60}, "enabled": False}],
        },
        actor=ADMIN,
    )
    (hook, chain) = lists["success"]
    assert (hook.action, hook.position, hook.enabled) == ("webhook", 0, True)
    assert hook.options == {"url": redaction.REDACTED, "timeout": 5}
    assert chain.options == {"run_template_id": world["Alpha.next"]}
    assert [(a.action, a.enabled, a.options) for a in lists["failure"]] == [
        ("reschedule", False, {"delay": 60})
    ]
    row = next(r for r in stored(session, rt) if r.action == "webhook")
    # at rest: the marker among the plain options, the URL sealed apart
    assert row.options == {"timeout": 5, "url": redaction.REDACTED}
    assert crypto.is_token(row.secrets) and "PLANTED" not in row.secrets
    assert row.secrets_key_id == crypto.key_id_of(row.secrets)
    enabled = runtemplates.enabled_actions(session, rt, runtemplates.SUCCESS_MODES)
    assert [actions.resolved_options(session, r.options, r.secrets) for r in enabled] == [
        {"url": SECRET_URL, "timeout": 5},
        {"run_template_id": world["Alpha.next"]},
    ]
    # the failure list's only action is disabled: the executor gets nothing there
    assert runtemplates.enabled_actions(session, rt, runtemplates.FAILURE_MODES) == []


def test_the_audit_names_the_actions_and_options_never_a_secret_value(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "failure", "webhook", {"url": SECRET_URL}, actor=ADMIN)
    entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "set_actions")).all()
    assert [(e.entity_type, e.entity_id, e.company_id) for e in entries] == [
        ("run_template", str(rt), world["Alpha"])
    ]
    assert entries[0].details == {
        "mode": "failure",
        "actions": [{"action": "webhook", "enabled": True, "options": ["url"]}],
    }
    everything = json.dumps([e.details for e in session.scalars(sa.select(AuditEntry))])
    assert "PLANTED" not in everything


def test_a_blank_secret_keeps_the_stored_one_and_a_new_one_replaces_it(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "success", "webhook", {"url": SECRET_URL}, actor=ADMIN)
    for blank in ("", None, redaction.REDACTED):
        actions.put_action(
            session, rt, "success", "webhook", {"url": blank, "timeout": 3}, actor=ADMIN
        )
        (row,) = stored(session, rt)
        assert actions.resolved_options(session, row.options, row.secrets) == {
            "url": SECRET_URL,
            "timeout": 3,
        }
    actions.put_action(
        session, rt, "success", "webhook", {"url": "http://127.0.0.1:9/new"}, actor=ADMIN
    )
    (row,) = stored(session, rt)
    assert actions.resolved_options(session, row.options, row.secrets) == {
        "url": "http://127.0.0.1:9/new"
    }


def test_every_problem_is_named_on_its_field_and_nothing_changes(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "success", "deactivate", actor=ADMIN)
    before = [(r.mode, r.action, r.options) for r in stored(session, rt)]
    with pytest.raises(ValidationError) as refused:
        actions.set_actions(
            session,
            rt,
            {
                "success": [
                    {"action": "webhook", "options": {"url": "ftp://files.example/x"}},
                    {"action": "reschedule", "options": {"delay": "soon", "colour": "red"}},
                    {"action": "no-such-kind"},
                    {"action": "chain", "options": {"run_template_id": rt}},
                    {"action": "reschedule", "options": {"delay": 5}},
                ],
                "failure": [
                    {"action": "webhook", "options": {"include_output": "perhaps"}},
                    {"action": "chain", "options": {"run_template_id": world["Beta.main"]}},
                ],
                "sometimes": [],
            },
            actor=ADMIN,
        )
    assert problems(refused) == {
        "success.0.url": "must be an http:// or https:// address",
        "success.1.colour": "not an option of reschedule (delay)",
        "success.1.delay": f"must be a whole number (0 to {2**31 - 1})",
        "success.2.action": "no action named 'no-such-kind' is installed "
        "(webhook, chain, reschedule, deactivate)",
        "success.3.run_template_id": "a run template cannot chain to itself",
        "success.4.action": "reschedule is already in this list",
        "failure.0.url": "required",
        "failure.0.include_output": "must be true or false",
        "failure.1.run_template_id": "must be a run template of the same company",
        "sometimes": "not a list of actions (success or failure)",
    }
    assert [(r.mode, r.action, r.options) for r in stored(session, rt)] == before


def test_a_chain_target_the_user_cannot_see_is_not_found(session, world):
    manager = principal(session, "amy", world["Alpha"], "manager")
    with pytest.raises(ValidationError) as refused:
        actions.put_action(
            session, world["Alpha.main"], "success", "chain", {"rtid": 987654}, actor=manager
        )
    assert problems(refused) == {"success.0.run_template_id": "run template 987654 not found"}
    # the original's spelling of the option is read as run_template_id
    lists = actions.put_action(
        session,
        world["Alpha.main"],
        "fail",
        "chain",
        {"rtid": str(world["Alpha.next"])},
        actor=manager,
    )
    assert lists["failure"][0].options == {"run_template_id": world["Alpha.next"]}


def test_a_viewer_reads_the_lists_and_changes_nothing_another_company_sees_nothing(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "success", "webhook", {"url": SECRET_URL}, actor=ADMIN)
    viewer = principal(session, "vera", world["Alpha"], "viewer")
    outsider = principal(session, "otto", world["Beta"], "admin")
    assert [a.action for a in actions.list_actions(session, viewer, rt)["success"]] == ["webhook"]
    assert list(actions.list_actions(session, viewer, rt, "failure")) == ["failure"]
    for change in (
        lambda who: actions.set_actions(session, rt, {"success": []}, actor=who),
        lambda who: actions.put_action(session, rt, "success", "deactivate", actor=who),
        lambda who: actions.remove_action(session, rt, "success", "webhook", actor=who),
        lambda who: actions.set_enabled(session, rt, "success", "webhook", False, actor=who),
        lambda who: actions.move_action(session, rt, "success", "webhook", 1, actor=who),
    ):
        with pytest.raises(PermissionDenied):
            change(viewer)
        with pytest.raises(NotFound):
            change(outsider)
    with pytest.raises(NotFound):
        actions.list_actions(session, outsider, rt)
    assert [(r.action, r.enabled) for r in stored(session, rt)] == [("webhook", True)]


def test_remove_move_and_enable_keep_the_rest_of_the_list(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "success", "webhook", {"url": SECRET_URL}, actor=ADMIN)
    actions.put_action(session, rt, "success", "reschedule", {"delay": 30}, actor=ADMIN)
    actions.put_action(session, rt, "success", "deactivate", actor=ADMIN)

    def order():
        return [(a.action, a.enabled) for a in actions.list_actions(session, ADMIN, rt)["success"]]

    actions.move_action(session, rt, "success", "deactivate", -1, actor=ADMIN)
    assert order() == [("webhook", True), ("deactivate", True), ("reschedule", True)]
    actions.move_action(session, rt, "success", "webhook", -1, actor=ADMIN)  # already first
    actions.set_enabled(session, rt, "success", "webhook", False, actor=ADMIN)
    assert order() == [("webhook", False), ("deactivate", True), ("reschedule", True)]
    actions.remove_action(session, rt, "success", "deactivate", actor=ADMIN)
    assert order() == [("webhook", False), ("reschedule", True)]
    # the secret survived every rewrite of the list
    hook = next(r for r in stored(session, rt) if r.action == "webhook")
    assert actions.resolved_options(session, hook.options, hook.secrets)["url"] == SECRET_URL
    with pytest.raises(NotFound, match="success action chain not found"):
        actions.remove_action(session, rt, "success", "chain", actor=ADMIN)
    with pytest.raises(ValidationError, match="'later' is not a list"):
        actions.set_enabled(session, rt, "later", "webhook", True, actor=ADMIN)


def test_key_rotation_reseals_the_secret_options(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "success", "webhook", {"url": SECRET_URL}, actor=ADMIN)
    (before,) = stored(session, rt)
    old_key = before.secrets_key_id
    new_key = encryption.rotate(session, actor=ADMIN)
    (after,) = stored(session, rt)
    assert after.secrets_key_id == new_key != old_key
    assert actions.resolved_options(session, after.options, after.secrets)["url"] == SECRET_URL
    assert sum(k.sealed_values for k in encryption.status(session).keys) >= 1


def test_a_clone_keeps_the_actions_and_their_sealed_secret(session, world):
    rt = world["Alpha.main"]
    actions.put_action(session, rt, "failure", "webhook", {"url": SECRET_URL}, actor=ADMIN)
    copy = runtemplates.clone(session, rt, actor=ADMIN)
    (row,) = stored(session, copy.id)
    assert actions.resolved_options(session, row.options, row.secrets)["url"] == SECRET_URL


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A real installed distribution that registers the action kind ``notify-team``."""
    info = tmp_path / "multiflexi_notify-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: multiflexi-notify\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{actions.GROUP}]\nnotify-team = multiflexi_notify:notify\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    actions.installed.cache_clear()
    yield "notify-team"
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    actions.installed.cache_clear()


def test_an_installed_plug_in_is_accepted_with_free_options_none_secret(session, world, plugin):
    rt = world["Alpha.main"]
    assert actions.kind(plugin) is not None and not actions.kind(plugin).builtin
    lists = actions.put_action(
        session, rt, "success", plugin, {"channel": "#ops", "retries": 2}, actor=ADMIN
    )
    assert lists["success"][0].options == {"channel": "#ops", "retries": 2}
    (row,) = stored(session, rt)
    assert row.secrets is None
    with pytest.raises(ValidationError) as refused:
        actions.put_action(session, rt, "success", plugin, {"bad name": {"x": 1}}, actor=ADMIN)
    assert problems(refused) == {"success.0.bad name": "not a valid option name"}
