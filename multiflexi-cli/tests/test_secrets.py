"""No command prints a secret unless --reveal was given and confirmed; tokens show once.

The test plants distinct secrets everywhere a secret can live (a credential, a
secret company variable, a secret configuration value, a one-time secret
launch override, an API token, a user's password) and then runs every reading
command in every format, and searches all of their output for each secret.
"""

from __future__ import annotations

import json

import pytest

from multiflexi.core import models

SECRETS = {
    "credential": "cred-S3CRET-4711",
    "company_env": "env-S3CRET-0815",
    "override": "ovr-S3CRET-2222",
    "password": "pw-S3CRET-correct-horse",
}


@pytest.fixture
def planted(live_cli, sleep_rt, fixtures, session):
    cli = live_cli
    company = str(sleep_rt["company_id"])
    rt = str(sleep_rt["rt_id"])
    cli.json("credential-prototype", "import-json", "--file", str(fixtures["prototype"]))
    ctype = cli.json(
        "credential-type", "create", "--company-id", company, "--name", "p", "--prototype", "Probe"
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
        f"PROBE_API_KEY={SECRETS['credential']}",
    )["credential_id"]
    cli.json("run-template", "assign-credential", "--id", rt, "--credential-id", str(cred))
    cli.json(
        "company-env",
        "set",
        "--company-id",
        company,
        "--name",
        "ERP_TOKEN",
        "--value",
        SECRETS["company_env"],
        "--secret",
    )
    user = cli.json(
        "user", "create", "--login", "ops", "--password-stdin", input=SECRETS["password"] + "\n"
    )["user_id"]
    created = cli.json("token", "create", "--user-id", str(user), "--name", "ci")
    job = cli.json(
        "run-template",
        "schedule",
        "--id",
        rt,
        "--env",
        f"ONE_TIME={SECRETS['override']}",
        "--secret",
        "ONE_TIME",
    )["job_id"]
    return {
        "company": company,
        "rt": rt,
        "cred": str(cred),
        "ctype": str(ctype),
        "user": str(user),
        "token_id": str(created["token_id"]),
        "token": created["token"],
        "job": str(job),
    }


READERS = [
    ["company", "list"],
    ["company", "get", "--id", "{company}"],
    ["company-env", "list", "--company-id", "{company}"],
    ["run-template", "list"],
    ["run-template", "get", "--id", "{rt}"],
    ["run-template", "list-credentials", "--id", "{rt}"],
    ["credential", "list"],
    ["credential", "get", "--id", "{cred}"],
    ["credential-type", "get", "--id", "{ctype}"],
    ["job", "list"],
    ["job", "get", "--id", "{job}"],
    ["queue", "list"],
    ["user", "list"],
    ["user", "get", "--id", "{user}"],
    ["token", "list"],
    ["token", "get", "--id", "{token_id}"],
    ["audit", "list", "--limit", "1000"],
    ["status"],
    ["queue", "overview"],
    ["encryption", "status"],
]


def test_no_reading_command_prints_a_secret(live_cli, planted):
    secrets = [*SECRETS.values(), planted["token"]]
    for fmt in ("table", "json", "yaml"):
        for words in READERS:
            args = [w.format(**planted) for w in words]
            result = live_cli("--format", fmt, *args)
            assert result.exit_code == 0, (args, result.stderr)
            for secret in secrets:
                assert secret not in result.stdout, (fmt, args)
                assert secret not in result.stderr, (fmt, args)


def test_the_token_is_shown_at_creation_only(live_cli, planted):
    assert planted["token"].startswith("mfx_")
    listed = live_cli.json("token", "list")
    assert listed[0]["prefix"] == planted["token"][: len(listed[0]["prefix"])]


def test_job_get_shows_the_environment_redacted(live_cli, planted):
    data = live_cli.json("job", "get", "--id", planted["job"])
    env = data["environment"]
    assert env["ONE_TIME"] == "***"
    assert env["PROBE_API_KEY"] == "***"
    assert env["ERP_TOKEN"] == "***"
    assert env["NUMBER"] == "60"


def test_reveal_asks_and_a_no_shows_nothing(live_cli, planted, session):
    result = live_cli("credential", "get", "--id", planted["cred"], "--reveal", input="n\n")
    assert result.exit_code == 1
    assert SECRETS["credential"] not in result.stdout
    assert session.query(models.AuditEntry).filter_by(action="reveal").count() == 0


def test_reveal_confirmed_shows_the_values_and_is_audited(live_cli, planted, session):
    asked = live_cli(
        "--format", "json", "credential", "get", "--id", planted["cred"], "--reveal", input="y\n"
    )
    assert asked.exit_code == 0
    assert json.loads(asked.stdout)["values"]["PROBE_API_KEY"] == SECRETS["credential"]
    scripted = live_cli.json("credential", "get", "--id", planted["cred"], "--reveal", "--yes")
    assert scripted["values"]["PROBE_API_KEY"] == SECRETS["credential"]
    reveals = session.query(models.AuditEntry).filter_by(action="reveal").all()
    assert [(e.entity_type, e.entity_id, e.actor.startswith("cli:")) for e in reveals] == [
        ("credential", planted["cred"], True)
    ] * 2


def test_encryption_seal_encrypts_what_an_older_version_left_in_clear(
    cli, session, actor, encryption_ready
):
    from multiflexi.core import companies
    from multiflexi.core.models import CompanyVariable

    company = companies.create(session, name="Upgraded", actor=actor)
    # as a version without the secret-by-name rule stored it
    session.add(CompanyVariable(company_id=company.id, name="ERP_TOKEN", value="erp-tok-4c2e"))
    session.commit()
    assert cli.json("encryption", "status")["plain_secrets"] == 1
    assert cli.json("encryption", "seal") == {"sealed": 1}
    assert cli.json("encryption", "status")["plain_secrets"] == 0
    session.expire_all()
    stored = session.get(CompanyVariable, session.query(CompanyVariable.id).scalar())
    assert stored.key_id is not None and "erp-tok-4c2e" not in stored.value
    assert cli.json("encryption", "seal") == {"sealed": 0}
