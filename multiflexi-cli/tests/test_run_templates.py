"""Run templates: create, inspect, change, preview, credentials, company assignments."""

import json

from multiflexi.core import models, runtemplates
from multiflexi.core.testing import count


def test_create_answers_runtemplate_id_and_get_shows_it(cli, sleep_rt):
    data = cli.json("run-template", "get", "--id", str(sleep_rt["rt_id"]))
    assert data["name"] == "nap"
    assert data["app_id"] == sleep_rt["app_id"]
    assert data["interval"] == "n"
    assert data["schedule"] == "never (disabled)"


def test_a_wrong_cron_is_refused_and_nothing_is_created(cli, session, sleep_rt):
    before = count(session, models.RunTemplate)
    result = cli(
        "--format",
        "json",
        "run-template",
        "create",
        "--company-id",
        str(sleep_rt["company_id"]),
        "--app-id",
        str(sleep_rt["app_id"]),
        "--interval",
        "c",
        "--cron",
        "61 * * * *",
    )
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["kind"] == "validation"
    assert any(line.startswith("cron:") for line in error["errors"])
    assert count(session, models.RunTemplate) == before


def test_update_schedule_and_config_then_preview(cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    changed = cli.json(
        "run-template",
        "update",
        "--id",
        rt,
        "--interv",
        "d",
        "--delay",
        "7200",
        "--config",
        "NUMBER=5",
    )
    assert changed == {"runtemplate_id": sleep_rt["rt_id"], "updated": True}
    data = cli.json("run-template", "get", "--id", rt)
    assert data["interval"] == "d"
    assert data["config"] == {"NUMBER": "5"}
    assert data["schedule"] == "every day at 02:00 (Europe/Prague)"
    times = cli.json("run-template", "preview", "--id", rt, "--count", "3")
    assert len(times) == 3
    assert all(t["at"].endswith("+00:00") for t in times)


def test_a_bad_config_value_changes_nothing(cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    result = cli("run-template", "update", "--id", rt, "--config", "NUMBER=many", "--interv", "d")
    assert result.exit_code == 1
    assert "NUMBER" in result.stderr
    session.expire_all()
    stored = runtemplates.get(session, sleep_rt["rt_id"])
    assert stored.interval_code == "n"
    assert stored.values == []


def test_list_filters_by_company_slug(cli, sleep_rt):
    listed = cli.json("run-template", "list", "--company", "acme")
    assert [r["id"] for r in listed] == [sleep_rt["rt_id"]]
    assert cli("run-template", "list", "--company", "nobody").exit_code == 3


def test_company_app_list_and_unassign(cli, session, sleep_rt):
    company = str(sleep_rt["company_id"])
    listed = cli.json("company-app", "list", "--company-id", company)
    assert [a["id"] for a in listed] == [sleep_rt["app_id"]]
    done = cli.json(
        "company-app", "unassign", "--company-id", company, "--app-id", str(sleep_rt["app_id"])
    )
    assert done["run_templates_removed"] == 1
    assert count(session, models.RunTemplate) == 0


def test_credentials_bind_to_a_run_template(cli, sleep_rt, fixtures):
    cli.json("credential-prototype", "import-json", "--file", str(fixtures["prototype"]))
    company = str(sleep_rt["company_id"])
    ctype = cli.json(
        "credential-type",
        "create",
        "--company-id",
        company,
        "--name",
        "probe",
        "--prototype",
        "Probe",
    )["credential_type_id"]
    cred = cli.json(
        "credential",
        "create",
        "--company-id",
        company,
        "--credential-type-id",
        str(ctype),
        "--name",
        "main",
        "--field",
        "PROBE_API_KEY=k-123",
    )["credential_id"]
    rt = str(sleep_rt["rt_id"])
    bound = cli.json("run-template", "assign-credential", "--id", rt, "--credential-id", str(cred))
    assert bound["prototype"] == "Probe"
    listed = cli.json("run-template", "list-credentials", "--id", rt)
    assert [c["id"] for c in listed] == [cred]
    assert cli.json("run-template", "get", "--id", rt)["credentials"] == [cred]
    cli.json("run-template", "unassign-credential", "--id", rt, "--credential-id", str(cred))
    again = cli("run-template", "unassign-credential", "--id", rt, "--credential-id", str(cred))
    assert again.exit_code == 3


def test_stale_lists_overdue_schedules(cli, session, sleep_rt):
    import datetime as dt

    cli.json("run-template", "update", "--id", str(sleep_rt["rt_id"]), "--interval", "h")
    session.query(models.RunTemplate).update(
        {"next_schedule": dt.datetime.now(dt.UTC) - dt.timedelta(hours=10)}
    )
    session.commit()
    found = cli.json("run-template", "stale")
    assert found["count"] == 1
    assert found["stale"][0]["id"] == sleep_rt["rt_id"]
    assert cli.json("run-template", "stale", "--tolerance-hours", "12")["count"] == 0


def test_company_env_secret_is_never_shown(cli, sleep_rt):
    company = str(sleep_rt["company_id"])
    cli.json("company-env", "set", "--company-id", company, "--name", "PLAIN", "--value", "p")
    cli.json(
        "company-env",
        "set",
        "--company-id",
        company,
        "--name",
        "TOKEN",
        "--value",
        "s3cr3t-x",
        "--secret",
    )
    listed = {v["name"]: v["value"] for v in cli.json("company-env", "list", "--company", company)}
    assert listed == {"PLAIN": "p", "TOKEN": "***"}
    cli.json("company-env", "unset", "--company-id", company, "--name", "PLAIN")
    assert [v["name"] for v in cli.json("company-env", "list", "--company-id", company)] == [
        "TOKEN"
    ]


def test_a_second_create_of_the_same_name_is_refused_naming_the_first(cli, session, sleep_rt):
    args = ["--company-id", str(sleep_rt["company_id"]), "--app-id", str(sleep_rt["app_id"])]
    result = cli("run-template", "create", "--name", "nap", *args)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: run template 'nap' of application Sleep already exists in company acme "
        f"(id {sleep_rt['rt_id']}); choose another name or change that one"
    )
    assert count(session, models.RunTemplate) == 1


def test_create_says_when_it_assigned_the_application(cli, sleep_rt):
    company = cli.json("company", "create", "--name", "Beta")["company_id"]
    args = ["--company-id", str(company), "--app-id", str(sleep_rt["app_id"])]
    result = cli("--format", "json", "run-template", "create", *args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["assigned_application"] is True
    assert f"Application {sleep_rt['app_id']} assigned to company {company}" in result.stderr
    again = cli("--format", "json", "run-template", "create", *args)
    assert json.loads(again.stdout)["assigned_application"] is False
    assert "assigned" not in again.stderr


def test_executor_and_retry_backoff_offer_the_cores_choices_and_refuse_others(
    cli, session, sleep_rt
):
    rt = str(sleep_rt["rt_id"])
    shown = cli("run-template", "update", "--help").stdout
    assert f"[{'|'.join(runtemplates.EXECUTORS)}]" in shown
    assert f"[{'|'.join(runtemplates.RETRY_BACKOFFS)}]" in shown
    for executor, backoff in zip(runtemplates.EXECUTORS, runtemplates.RETRY_BACKOFFS, strict=False):
        changed = cli.json(
            "run-template",
            "update",
            "--id",
            rt,
            "--executor",
            executor.upper(),
            "--retry-backoff",
            backoff,
        )
        assert changed["updated"] is True
        data = cli.json("run-template", "get", "--id", rt)
        assert (data["executor"], data["retry_backoff"]) == (executor, backoff)
    refused = cli("run-template", "update", "--id", rt, "--retry-backoff", "Linear")
    assert refused.exit_code == 2
    assert cli.json("run-template", "get", "--id", rt)["retry_backoff"] == backoff
