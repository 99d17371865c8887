"""What the faces show of credentials at a glance, and a credential in use kept from deletion."""

import contextlib

import pytest
import sqlalchemy as sa

from multiflexi.core import (
    access,
    audit,
    availability,
    companies,
    credentials,
    credviews,
    runtemplates,
)
from multiflexi.core.errors import Conflict
from multiflexi.core.models import (
    Credential,
    CredentialPrototype,
    CredentialPrototypeField,
    CredentialTypeField,
)
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test", is_admin=True)


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def prototype(session):
    proto = CredentialPrototype(
        uuid="6ba7b810-9dad-11d1-80b4-00c04fd430c9", code="bank", name="Bank API"
    )
    proto.fields.extend(
        [
            CredentialPrototypeField(
                keyword="BANK_TOKEN", type="string", default_value="t0k-default", position=0
            ),
            CredentialPrototypeField(keyword="BANK_URL", type="url", required=True, position=1),
        ]
    )
    session.add(proto)
    session.commit()
    return proto


@pytest.fixture
def ctype(session, company, prototype):
    return credentials.create_type(
        session, company=company.id, name="Bank", prototype_ref="bank", actor=ACTOR
    )


def make(session, company, ctype, name, url="https://bank.example"):
    return credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name=name,
        values={"BANK_URL": url, "BANK_TOKEN": f"{name}-secret"},
        actor=ACTOR,
    )


@contextlib.contextmanager
def statements(session):
    seen: list[str] = []
    engine = session.get_bind()

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def test_a_prototypes_fields_say_which_are_secret_by_name(prototype):
    fields = {f.keyword: f for f in credentials.prototype_fields(prototype)}
    assert list(fields) == ["BANK_TOKEN", "BANK_URL"]
    assert fields["BANK_TOKEN"].secret, "a *_TOKEN field is secret by its name"
    assert not fields["BANK_URL"].secret and fields["BANK_URL"].required


def test_the_overview_reads_a_page_in_a_fixed_number_of_statements(session, company, ctype, app):
    made = [make(session, company, ctype, f"login {n}") for n in range(5)]
    rt = runtemplates.create(
        session, company=company.id, app_id=app.id, actor=ACTOR, name="sync", values={}
    )
    runtemplates.bind_credential(session, rt.id, made[0].id, actor=ACTOR)
    availability.check_credential(session, made[1].id, actor=ACTOR)
    session.expire_all()
    with statements(session) as few:
        small = credviews.overview(session, limit=2)
    session.expire_all()
    with statements(session) as many:
        large = credviews.overview(session, limit=5)
    assert len(small.items) == 2 and len(large.items) == 5
    assert len(many) == len(few), "no statement per row"
    by_name = {s.credential.name: s for s in large.items}
    first = by_name["login 0"]
    assert (first.type_name, first.company, first.prototype_code) == ("Bank", "Acme", "bank")
    assert first.used_by == 1 and first.last_check is None
    checked = by_name["login 1"]
    assert checked.used_by == 0
    assert checked.last_check is not None
    assert checked.last_check.state == "unknown"
    assert "no availability check is installed" in checked.last_check.message
    assert checked.last_check.by == "tester"


def test_the_overview_shows_only_the_visible_companies(session, company, ctype):
    other = companies.create(session, name="Globex", actor=ACTOR)
    other_type = credentials.create_type(
        session, company=other.id, name="Bank", prototype_ref="bank", actor=ACTOR
    )
    make(session, company, ctype, "ours")
    make(session, other, other_type, "theirs")
    seen = credviews.overview(session, company_ids={company.id})
    assert [s.credential.name for s in seen.items] == ["ours"]
    assert seen.total == 1
    assert credviews.overview(session, company_ids=set()).items == []
    types = credviews.type_overview(session, company_ids={other.id})
    assert [(t.credential_type.id, t.company, t.fields, t.credentials) for t in types.items] == [
        (other_type.id, "Globex", 2, 1)
    ]


def test_one_companys_list_is_still_cut_to_the_visible_ones(session, company, ctype, prototype):
    other = companies.create(session, name="Globex", actor=ACTOR)
    other_type = credentials.create_type(
        session, company=other.id, name="Bank", prototype_ref="bank", actor=ACTOR
    )
    make(session, company, ctype, "ours")
    make(session, other, other_type, "theirs")
    make(session, other, other_type, "theirs too")
    mine = credviews.overview(session, company_id=company.id)
    assert [s.credential.name for s in mine.items] == ["ours"]
    hidden = credviews.overview(session, company_id=other.id, company_ids={company.id})
    assert hidden.items == [] and hidden.total == 0
    types = credviews.type_overview(session, company_id=other.id, company_ids={other.id})
    assert [(t.company, t.fields, t.credentials) for t in types.items] == [("Globex", 2, 2)]
    assert credviews.type_overview(session, company_id=other.id, company_ids=set()).items == []
    protos = credviews.prototype_overview(session)
    assert [(p.prototype.code, p.fields) for p in protos.items] == [("bank", 2)]


def test_the_last_check_is_the_newest_one_and_names_no_value(session, company, ctype):
    cred = make(session, company, ctype, "main")
    availability.check_credential(session, cred.id, actor=ACTOR)
    # the type gains a required field the credential has no value for
    ctype.fields.append(CredentialTypeField(keyword="BANK_PIN", required=True, secret=True))
    cred.updated_at = None
    session.commit()
    availability.check_credential(session, cred.id, actor=ACTOR)
    found = credviews.last_checks(session, [cred.id, 999])
    assert list(found) == [cred.id]
    assert found[cred.id].state == "misconfigured"
    assert "BANK_PIN" in found[cred.id].message
    assert "main-secret" not in repr(found)


def test_a_credential_in_use_is_not_deleted_and_names_its_run_templates(
    session, company, ctype, app
):
    cred = make(session, company, ctype, "main")
    rt = runtemplates.create(
        session, company=company.id, app_id=app.id, actor=ACTOR, name="nightly sync", values={}
    )
    runtemplates.bind_credential(session, rt.id, cred.id, actor=ACTOR)
    assert [r.id for r in credentials.used_by(session, cred.id)] == [rt.id]
    with pytest.raises(Conflict, match=rf"used by run template 'nightly sync' \({rt.id}\)"):
        credentials.delete(session, cred.id, actor=ACTOR)
    session.rollback()
    assert count(session, Credential) == 1
    runtemplates.unbind_credential(session, rt.id, cred.id, actor=ACTOR)
    credentials.delete(session, cred.id, actor=ACTOR)
    assert count(session, Credential) == 0


def test_the_companies_a_principal_may_write_in():
    manager = access.Principal(name="m", user_id=1, roles={1: "manager", 2: "viewer", 3: "admin"})
    assert access.company_ids_with(manager, access.WRITE) == {1, 3}
    assert access.company_ids_with(manager, access.ADMIN) == {3}
    assert access.company_ids_with(ACTOR, access.WRITE) is None
    assert access.company_ids_with(audit.Actor("anon"), access.READ) == set()
