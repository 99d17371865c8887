"""No secret is ever stored in plain text, and key rotation re-seals every one of them."""

import pytest
from redis import Redis

from multiflexi.core import audit, companies, credentials, encryption, jobenv, jobs, runtemplates
from multiflexi.core.errors import ConfigurationError
from multiflexi.core.testing import database_bytes

ACTOR = audit.Actor("tester", source="test")
SECRETS = {
    "company": "company-secret-7f3a9b",
    "rt": "runtemplate-secret-1c2d3e",
    "cred": "credential-secret-a8b7c6",
    "setting": "type-setting-secret-55aa",
    "override": "override-secret-9e8d7c",
}


@pytest.fixture
def stored(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    companies.set_variable(
        session, company.id, "COMPANY_TOKEN", SECRETS["company"], secret=True, actor=ACTOR
    )
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example", "API_PASSWORD": SECRETS["rt"]},
    )
    ctype = credentials.create_type(
        session,
        company=company.id,
        name="ERP",
        actor=ACTOR,
        fields=[{"keyword": "ERP_TOKEN", "type": "password"}],
        settings={"INTERNAL": SECRETS["setting"]},
    )
    cred = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="erp",
        values={"ERP_TOKEN": SECRETS["cred"]},
        actor=ACTOR,
    )
    runtemplates.bind_credential(session, rt.id, cred.id, actor=ACTOR)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    job = jobs.launch(
        session,
        rt.id,
        actor=ACTOR,
        redis=dead,
        overrides={"ONE_TIME": SECRETS["override"]},
        secret_overrides=["ONE_TIME"],
    )
    return rt, job


def assert_no_plaintext(engine):
    data = database_bytes(engine)
    leaked = [name for name, secret in SECRETS.items() if secret.encode() in data]
    assert leaked == []


def test_every_kind_of_secret_is_sealed(session, engine, stored):
    rt, job = stored
    env = jobenv.assemble(session, rt, job=job)
    values = env.as_dict()
    assert values["COMPANY_TOKEN"] == SECRETS["company"]
    assert values["API_PASSWORD"] == SECRETS["rt"]
    assert values["ERP_TOKEN"] == SECRETS["cred"]
    assert values["ONE_TIME"] == SECRETS["override"]
    assert set(env.secrets()) >= {
        SECRETS["company"],
        SECRETS["rt"],
        SECRETS["cred"],
        SECRETS["override"],
    }
    assert_no_plaintext(engine)


def test_rotation_reseals_everything_under_the_new_key(session, engine, stored):
    rt, job = stored
    before = encryption.status(session)
    assert [k.active for k in before.keys] == [True]
    old_key = before.keys[0].key_id
    assert before.keys[0].sealed_values >= 5

    new_key = encryption.rotate(session, actor=ACTOR)

    after = encryption.status(session)
    assert new_key != old_key
    by_id = {k.key_id: k for k in after.keys}
    assert by_id[old_key].active is False and by_id[old_key].sealed_values == 0
    assert by_id[new_key].active is True
    assert by_id[new_key].sealed_values == before.keys[0].sealed_values
    assert after.master_key_matches is True
    env = jobenv.assemble(session, rt, job=job).as_dict()
    assert (env["ERP_TOKEN"], env["ONE_TIME"]) == (SECRETS["cred"], SECRETS["override"])
    assert_no_plaintext(engine)


def test_without_a_master_key_no_secret_can_be_stored(engine, settings, app):
    import dataclasses

    from multiflexi.core import config

    keyless = dataclasses.replace(settings, master_key=None)
    with config.session_factory(engine, keyless)() as session:
        company = companies.create(session, name="Acme", actor=ACTOR)
        with pytest.raises(ConfigurationError, match="ENCRYPTION_MASTER_KEY"):
            companies.set_variable(session, company.id, "T", "x", secret=True, actor=ACTOR)
        assert companies.variables(session, company.id) == []
