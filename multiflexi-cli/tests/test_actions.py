"""A run template's actions from the command line: list, set (a secret from stdin), remove,
move, the kinds; secrets never printed, problems named, nothing changed on a refusal."""

from __future__ import annotations

import json

from multiflexi.core import actions, audit, runtemplates
from multiflexi.core.testing import database_bytes

SECRET_URL = "https://hooks.example/ops?token=PLANTED-cli-action-url-e2c7"


def test_set_action_reads_a_secret_url_from_stdin_and_never_prints_it(cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    result = cli(
        "--format",
        "json",
        "run-template",
        "set-action",
        "--id",
        rt,
        "--mode",
        "fail",
        "--action",
        "webhook",
        "--option",
        "timeout=4",
        "--secret-stdin",
        "url",
        input=SECRET_URL + "\n",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "mode": "failure",
            "position": 0,
            "action": "webhook",
            "enabled": True,
            "options": {"timeout": 4, "url": "***"},
            "known": True,
        }
    ]
    listed = cli("--format", "json", "run-template", "actions", "--id", rt)
    audit_log = cli("--format", "json", "audit", "list")
    for answer in (result, listed, audit_log):
        assert "PLANTED" not in answer.stdout + answer.stderr
    assert b"PLANTED-cli-action-url" not in database_bytes(session.get_bind())
    (row,) = runtemplates.enabled_actions(session, sleep_rt["rt_id"], ("failure",))
    assert actions.resolved_options(session, row.options, row.secrets)["url"] == SECRET_URL
    # changed again without the url: the sealed one stays
    cli.json(
        "run-template",
        "set-action",
        "--id",
        rt,
        "--mode",
        "failure",
        "--action",
        "webhook",
        "--option",
        "include_output=no",
        "--enabled",
        "false",
    )
    session.expire_all()
    listed_rows = actions.list_actions(session, audit.Actor.cli(), sleep_rt["rt_id"])["failure"]
    assert [(a.enabled, a.options) for a in listed_rows] == [
        (False, {"include_output": False, "url": "***"})
    ]


def test_the_lists_are_built_moved_and_trimmed_from_the_command_line(cli, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    for action, options in (("reschedule", ["--option", "delay=60"]), ("deactivate", [])):
        cli.json(
            "run-template",
            "set-action",
            "--id",
            rt,
            "--mode",
            "success",
            "--action",
            action,
            *options,
        )
    moved = cli.json(
        "run-template",
        "move-action",
        "--id",
        rt,
        "--mode",
        "success",
        "--action",
        "deactivate",
        "--by",
        "-1",
    )
    assert [(r["action"], r["position"]) for r in moved] == [("deactivate", 0), ("reschedule", 1)]
    left = cli.json(
        "run-template", "remove-action", "--id", rt, "--mode", "success", "--action", "deactivate"
    )
    assert [(r["action"], r["options"]) for r in left] == [("reschedule", {"delay": 60})]
    table = cli("run-template", "actions", "--id", rt)
    assert table.exit_code == 0 and "reschedule" in table.stdout
    missing = cli(
        "run-template", "remove-action", "--id", rt, "--mode", "success", "--action", "chain"
    )
    assert missing.exit_code == 3
    assert "success action chain not found" in missing.stderr


def test_a_bad_action_is_refused_naming_each_problem_and_nothing_changes(cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    before = database_bytes(session.get_bind())
    result = cli(
        "--format",
        "json",
        "run-template",
        "set-action",
        "--id",
        rt,
        "--mode",
        "success",
        "--action",
        "chain",
        "--option",
        f"run_template_id={rt}",
        "--option",
        "colour=red",
    )
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["kind"] == "validation"
    assert sorted(error["errors"]) == [
        "success.0.colour: not an option of chain (run_template_id)",
        "success.0.run_template_id: a run template cannot chain to itself",
    ]
    unknown = cli(
        "run-template", "set-action", "--id", rt, "--mode", "success", "--action", "launch-rockets"
    )
    assert unknown.exit_code == 1
    assert "no action named 'launch-rockets' is installed" in unknown.stderr
    assert "Traceback" not in result.stderr + unknown.stderr
    assert database_bytes(session.get_bind()) == before


def test_the_kinds_are_listed_with_their_options(cli):
    kinds = {k["name"]: k for k in cli.json("run-template", "action-kinds")}
    assert {"webhook", "chain", "reschedule", "deactivate"} <= set(kinds)
    assert kinds["webhook"]["options"][0]["secret"] is True
