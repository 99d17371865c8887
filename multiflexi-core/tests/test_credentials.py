"""Credentials: values sealed at rest, redacted in views, revealed only with an audit row."""

import pytest

from multiflexi.core import audit, companies, credentials
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.models import (
    Credential,
    CredentialPrototype,
    CredentialPrototypeField,
    CredentialType,
    CredentialValue,
)
from multiflexi.core.testing import count, database_bytes

ACTOR = audit.Actor("tester", source="test")


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def prototype(session):
    proto = CredentialPrototype(
        uuid="6ba7b810-9dad-11d1-80b4-00c04fd430c8", code="fio", name="Fio bank"
    )
    proto.fields.extend(
        [
            CredentialPrototypeField(
                keyword="FIO_TOKEN", type="password", required=True, position=0
            ),
            CredentialPrototypeField(keyword="ACCOUNT_NUMBER", type="string", position=1),
            CredentialPrototypeField(
                keyword="FIO_URL",
                type="url",
                position=2,
                default_value="https://fioapi.fio.cz/v1/rest",
            ),
        ]
    )
    session.add(proto)
    session.commit()
    return proto


def test_values_are_sealed_redacted_and_revealed_with_audit(session, engine, company, prototype):
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    cred = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="main account",
        values={"FIO_TOKEN": "fio-t0ken-9f8e7d", "ACCOUNT_NUMBER": "ACC-77553311"},
        actor=ACTOR,
    )
    assert credentials.redacted_values(cred) == {"ACCOUNT_NUMBER": "***", "FIO_TOKEN": "***"}
    assert credentials.reveal(session, cred.id, actor=ACTOR) == {
        "ACCOUNT_NUMBER": "ACC-77553311",
        "FIO_TOKEN": "fio-t0ken-9f8e7d",
    }
    page = audit.entries(session, entity_type="credential")
    reveals, _total = page.items, page.total
    assert [r.action for r in reveals] == ["reveal", "create"]
    assert "fio-t0ken-9f8e7d" not in repr([r.details for r in reveals])
    env = credentials.provided_environment(session, cred)
    assert env["FIO_TOKEN"] == ("fio-t0ken-9f8e7d", True)
    assert env["ACCOUNT_NUMBER"] == ("ACC-77553311", False)
    assert env["FIO_URL"] == ("https://fioapi.fio.cz/v1/rest", False)
    data = database_bytes(engine)
    assert b"fio-t0ken-9f8e7d" not in data
    assert b"ACC-77553311" not in data  # every credential value is sealed, secret or not


def test_missing_required_field_creates_nothing(session, company, prototype):
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    with pytest.raises(ValidationError, match="FIO_TOKEN: required"):
        credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name="x",
            values={"ACCOUNT_NUMBER": "1"},
            actor=ACTOR,
        )
    assert count(session, Credential) == 0


def test_blank_secret_keeps_the_stored_value(session, company, prototype):
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    cred = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="c",
        values={"FIO_TOKEN": "keep-me-123"},
        actor=ACTOR,
    )
    credentials.update(
        session, cred.id, values={"FIO_TOKEN": "", "ACCOUNT_NUMBER": "9"}, actor=ACTOR
    )
    assert credentials.reveal(session, cred.id, actor=ACTOR)["FIO_TOKEN"] == "keep-me-123"


def test_unknown_prototype_and_field_are_clear_errors(session, company, prototype):
    with pytest.raises(NotFound, match="credential prototype nope not found"):
        credentials.create_type(
            session, company=company.id, name="x", prototype_ref="nope", actor=ACTOR
        )
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    with pytest.raises(ValidationError, match="WHAT: not a field"):
        credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name="x",
            values={"FIO_TOKEN": "t", "WHAT": "?"},
            actor=ACTOR,
        )


def test_a_credential_type_in_use_is_not_deleted_nor_its_credentials(session, company, prototype):
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    for name in ("main", "savings"):
        credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name=name,
            values={"FIO_TOKEN": f"{name}-token"},
            actor=ACTOR,
        )

    with pytest.raises(
        Conflict,
        match=rf"credential type {ctype.id} \(Fio\) is used by 2 credentials; delete them first",
    ):
        credentials.delete_type(session, ctype.id, actor=ACTOR)

    session.expire_all()
    assert count(session, CredentialType) == 1
    assert count(session, Credential) == 2
    assert count(session, CredentialValue) == 2
    assert audit.entries(session, entity_type="credential_type").items[0].action == "create"

    # once no credential uses it, it goes
    for credential in credentials.list_credentials(session, company_id=company.id).items:
        credentials.delete(session, credential.id, actor=ACTOR)
    credentials.delete_type(session, ctype.id, actor=ACTOR)
    assert count(session, CredentialType) == 0


def test_deleting_a_company_takes_its_credential_types_and_credentials(session, company, prototype):
    other = companies.create(session, name="Globex", actor=ACTOR)
    for owner in (company, other):
        ctype = credentials.create_type(
            session, company=owner.id, name="Fio", prototype_ref="fio", actor=ACTOR
        )
        credentials.create(
            session,
            company=owner.id,
            credential_type_id=ctype.id,
            name="main",
            values={"FIO_TOKEN": "t0ken"},
            actor=ACTOR,
        )

    companies.delete(session, company.id, actor=ACTOR)

    session.expire_all()
    assert [c.company_id for c in session.query(Credential)] == [other.id]
    assert [t.company_id for t in session.query(CredentialType)] == [other.id]
    assert count(session, CredentialValue) == 1


def test_a_blank_name_and_a_bad_value_are_both_reported(session, company, prototype):
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    with pytest.raises(ValidationError) as refused:
        credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name=" ",
            values={"FIO_TOKEN": "t", "FIO_URL": "not a url"},
            actor=ACTOR,
        )
    assert [p.field for p in refused.value.problems] == ["name", "values.FIO_URL"]
    assert count(session, Credential) == 0


def test_own_fields_twice_or_with_a_bad_default_are_refused_beside_the_row(session, company):
    with pytest.raises(ValidationError) as refused:
        credentials.create_type(
            session,
            company=company.id,
            name="Mine",
            actor=ACTOR,
            fields=[
                {"keyword": "API_URL", "type": "url", "default": "not a url"},
                {"keyword": "API_KEY", "secret": True},
                {"keyword": "API_KEY"},
            ],
        )
    assert [p.field for p in refused.value.problems] == ["fields.0.default", "fields.2.keyword"]
    assert "API_KEY is given twice" in str(refused.value)
    assert count(session, CredentialType) == 0
    ctype = credentials.create_type(
        session,
        company=company.id,
        name="Mine",
        actor=ACTOR,
        fields=[
            {"keyword": "API_URL", "type": "url", "default": "https://example.com"},
            {"keyword": "API_KEY", "secret": True, "required": True},
        ],
    )
    assert [(f.keyword, f.secret, f.required) for f in credentials.fields_of(ctype)] == [
        ("API_URL", False, False),
        ("API_KEY", True, True),
    ]
