"""A configuration field is secret by its name too: sealed at rest, redacted, masked in output.

Manifests type API keys and tokens as plain text (the csas-sharepoint fixture types
CSAS_API_KEY and CSAS_ACCESS_TOKEN as ``text``); the rule of
:func:`multiflexi.core.fieldtypes.is_secret_name` makes them secret all the same.
"""

from pathlib import Path

import pytest
from redis import Redis

from multiflexi.core import audit, companies, credentials, fieldtypes, jobenv, jobs, runtemplates
from multiflexi.core.manifests import import_manifest
from multiflexi.core.models import Application, RunTemplateValue
from multiflexi.core.testing import database_bytes

ACTOR = audit.Actor("tester", source="test")
CSAS = (
    Path(__file__).parent
    / "fixtures"
    / "apps"
    / "Spoje-NET__csas-sharepoint__csas-sharepoint.app.json"
)
API_KEY = "csas-api-key-5d41402abc4b2a76"
ACCESS_TOKEN = "csas-access-token-7d793037a076"

SECRET_NAMES = [
    "PASSWORD",
    "DB_PASSWORD",
    "SMTP_PASSWD",
    "CERT_PASS",
    "GPG_PASSPHRASE",
    "OFFICE365_SECRET",
    "OFFICE365_CLSECRET",
    "OFFICE365_SECRET_VALUE",
    "OAUTH_CLIENT_SECRET",
    "DJANGO_SECRET_KEY",
    "SECRET_KEY_BASE",
    "KIMAI_TOKEN",
    "CSAS_ACCESS_TOKEN",
    "REFRESH_TOKEN",
    "API_TOKEN_V2",
    "CSAS_API_KEY",
    "OPENAI_APIKEY",
    "SSH_PRIVATE_KEY",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "ENCRYPTION_KEY",
    "clientSecret",
    "api_token",
]
NOT_SECRET_NAMES = [
    "TOKEN_URL",
    "OAUTH_TOKEN_ENDPOINT",
    "PASSWORD_POLICY",
    "PASSWORD_MIN_LENGTH",
    "PASSWORD_FILE",
    "TOKEN_EXPIRY",
    "TOKEN_REFRESH_INTERVAL",
    "FIO_TOKEN_NAME",
    "SECRET_NAME",
    "API_KEY_FILE",
    "AWS_ACCESS_KEY_ID",
    "PROBE_SHOW_SECRETS",
    "ZABBIX_KEY",
    "OFFICE365_CLIENTID",
    "OFFICE365_USERNAME",
    "PWD",
    "PASSPORT_NUMBER",
    "BYPASS_CACHE",
    "TOKENIZER",
    "RESULT_FILE",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_looking_names_are_secret(name):
    assert fieldtypes.is_secret_name(name)
    assert fieldtypes.is_secret_field(name, "text")


@pytest.mark.parametrize("name", NOT_SECRET_NAMES)
def test_names_about_a_secret_or_unrelated_are_not(name):
    assert not fieldtypes.is_secret_name(name)
    assert not fieldtypes.is_secret_field(name, "text")


@pytest.mark.parametrize("kind", ["bool", "set"])
def test_a_yes_no_or_listed_choice_field_is_never_secret_by_its_name(kind):
    assert not fieldtypes.is_secret_field("USE_TOKEN", kind)
    assert fieldtypes.is_secret_field("USE_TOKEN", kind, flagged=True)


def test_the_flag_and_the_type_still_make_a_field_secret():
    assert fieldtypes.is_secret_field("PIN", "password")
    assert fieldtypes.is_secret_field("PIN", "string", flagged=True)
    assert not fieldtypes.is_secret_field("PIN", "string")


@pytest.fixture
def csas(session):
    app = session.get(Application, import_manifest(session, CSAS, actor=ACTOR).application_id)
    company = companies.create(session, name="Acme", actor=ACTOR)
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        active=False,
        values={
            "CSAS_API_KEY": API_KEY,
            "CSAS_ACCESS_TOKEN": ACCESS_TOKEN,
            "CSAS_ACCOUNT_IBAN": "CZ6508000000192000145399",
        },
    )
    return app, rt


def test_text_typed_keys_and_tokens_of_a_manifest_are_sealed_and_redacted(session, engine, csas):
    app, rt = csas
    fields = {f.name: f for f in app.fields}
    assert (fields["CSAS_API_KEY"].type, fields["CSAS_API_KEY"].secret) == ("text", False)
    assert fields["CSAS_API_KEY"].is_secret and fields["CSAS_ACCESS_TOKEN"].is_secret
    assert not fields["CSAS_ACCOUNT_IBAN"].is_secret

    rows = {v.name: v for v in runtemplates.get(session, rt.id).values}
    # what the CLI's and the API's views redact by: a sealed value
    assert rows["CSAS_API_KEY"].key_id is not None
    assert rows["CSAS_ACCESS_TOKEN"].key_id is not None
    assert rows["CSAS_ACCOUNT_IBAN"].key_id is None
    assert jobenv.configured_values(session, rt)["CSAS_API_KEY"] == (API_KEY, True)
    data = database_bytes(engine)
    assert API_KEY.encode() not in data and ACCESS_TOKEN.encode() not in data


def test_text_typed_keys_and_tokens_are_masked_in_job_output(session, csas):
    _app, rt = csas
    env = jobenv.assemble(session, rt)
    assert env["CSAS_API_KEY"].secret and env["CSAS_ACCESS_TOKEN"].secret
    assert env.redacted()["CSAS_API_KEY"] == "***"
    line = f"GET /accounts key={API_KEY} bearer {ACCESS_TOKEN} for CZ6508000000192000145399"
    assert env.mask(line) == "GET /accounts key=*** bearer *** for CZ6508000000192000145399"


def test_a_value_stored_in_clear_before_the_rule_is_still_masked_in_job_output(session, csas):
    """Stored before its field counted as secret: still in clear at rest (re-save it to seal
    it), but every job masks it."""
    _app, rt = csas
    row = session.query(RunTemplateValue).filter_by(run_template_id=rt.id, name="CSAS_API_KEY")
    row.update({"value": "old-clear-api-key-123", "key_id": None})
    session.commit()

    env = jobenv.assemble(session, rt)

    assert env["CSAS_API_KEY"].secret
    assert env.mask("key old-clear-api-key-123") == "key ***"
    # saving it again seals it
    runtemplates.set_values(session, rt.id, {"CSAS_API_KEY": "old-clear-api-key-123"}, actor=ACTOR)
    row = session.query(RunTemplateValue).filter_by(run_template_id=rt.id, name="CSAS_API_KEY")
    assert row.one().key_id is not None


def test_a_company_variable_named_like_a_secret_is_sealed(session, engine):
    company = companies.create(session, name="Acme", actor=ACTOR)
    variable = companies.set_variable(
        session, company.id, "ERP_API_KEY", "erp-api-key-0a1b2c3d", actor=ACTOR
    )
    plain = companies.set_variable(session, company.id, "ERP_URL", "https://erp", actor=ACTOR)
    assert (variable.secret, variable.key_id is not None) == (True, True)
    assert (plain.secret, plain.key_id) == (False, None)
    assert b"erp-api-key-0a1b2c3d" not in database_bytes(engine)


def test_credential_fields_and_overrides_named_like_secrets_are_masked(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    ctype = credentials.create_type(
        session,
        company=company.id,
        name="ERP",
        actor=ACTOR,
        fields=[{"keyword": "ERP_TOKEN", "type": "string"}, {"keyword": "ERP_USER"}],
    )
    cred = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="erp",
        values={"ERP_TOKEN": "erp-token-77aa", "ERP_USER": "robot"},
        actor=ACTOR,
    )
    assert credentials.provided_environment(session, cred) == {
        "ERP_TOKEN": ("erp-token-77aa", True),
        "ERP_USER": ("robot", False),
    }
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example"},
    )
    runtemplates.bind_credential(session, rt.id, cred.id, actor=ACTOR)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    job = jobs.launch(
        session, rt.id, actor=ACTOR, redis=dead, overrides={"ONE_TIME_TOKEN": "one-time-99ff"}
    )
    env = jobenv.assemble(session, rt, job=job)
    assert env["ERP_TOKEN"].secret and env["ONE_TIME_TOKEN"].secret
    assert not env["ERP_USER"].secret
    assert env.mask("erp-token-77aa one-time-99ff robot") == "*** *** robot"


def test_values_stored_in_clear_before_the_rule_are_sealed_by_one_call(session, engine, csas):
    """An upgraded installation: `multiflexi-cli encryption seal` (this function) seals what
    older versions stored in clear; nothing else changes, and a second call finds nothing."""
    from multiflexi.core import encryption
    from multiflexi.core.models import CompanyVariable

    _app, rt = csas
    old_key = "old-clear-api-key-123"
    session.query(RunTemplateValue).filter_by(run_template_id=rt.id, name="CSAS_API_KEY").update(
        {"value": old_key, "key_id": None}
    )
    company_id = runtemplates.get(session, rt.id).company_id
    session.add(
        CompanyVariable(company_id=company_id, name="ERP_TOKEN", value="old-erp-token-9f8e")
    )
    session.add(CompanyVariable(company_id=company_id, name="ERP_URL", value="https://erp"))
    session.commit()
    assert encryption.status(session).plain_secrets == 2

    assert encryption.seal_plain_secrets(session, actor=ACTOR) == 2

    data = database_bytes(engine)
    assert old_key.encode() not in data and b"old-erp-token-9f8e" not in data
    assert b"https://erp" in data and b"CZ6508000000192000145399" in data  # not secret
    assert jobenv.configured_values(session, rt)["CSAS_API_KEY"] == (old_key, True)
    variables = companies.variable_values(session, company_id)
    assert variables["ERP_TOKEN"] == ("old-erp-token-9f8e", True)
    assert encryption.status(session).plain_secrets == 0
    assert encryption.seal_plain_secrets(session, actor=ACTOR) == 0
