"""The activation wizard's rules: who may start it, the catalogue it offers, where values
come from, what a run template still misses, and the activation that waits for all."""

import pytest

from multiflexi.core import (
    access,
    activation,
    audit,
    companies,
    credentials,
    jobenv,
    manifests,
    models,
    runtemplates,
    users,
)
from multiflexi.core.errors import ValidationError

ACTOR = audit.Actor("tester", source="test")


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def prototype(session):
    return manifests.import_credential_prototype(
        session,
        {
            "uuid": "6f1c1a4e-0000-4000-8000-00000000c0a1",
            "code": "erp_api",
            "name": "ERP API",
            "version": "1.0",
            "fields": [
                {"keyword": "ENDPOINT", "type": "url", "name": "URL"},
                {"keyword": "ERP_TOKEN", "type": "password", "name": "Token"},
            ],
        },
        actor=ACTOR,
    )


def draft(session, company, app, **kwargs):
    """A run template as the wizard's third step makes it: inactive, nothing stored."""
    return runtemplates.create(
        session, company=company.id, app_id=app.id, actor=ACTOR, active=False, **kwargs
    )


def test_only_companies_the_user_may_change_are_offered(session, company):
    other = companies.create(session, name="Beta", actor=ACTOR)
    third = companies.create(session, name="Gamma", actor=ACTOR)
    user = users.create(session, "mia", actor=ACTOR, password="long enough password")
    users.grant(session, company.id, user.id, "manager", actor=ACTOR)
    users.grant(session, other.id, user.id, "viewer", actor=ACTOR)
    admin = users.create(session, "root", actor=ACTOR, password="long enough password")
    admin.is_admin = True
    session.commit()
    manager = access.principal_for(session, user)
    assert [c.name for c in activation.writable_companies(session, manager)] == ["Acme"]
    root = access.principal_for(session, admin)
    assert [c.name for c in activation.writable_companies(session, root)] == [
        "Acme",
        "Beta",
        "Gamma",
    ]
    assert third.id not in {c.id for c in activation.writable_companies(session, manager)}


def test_the_catalogue_lists_assigned_applications_first_in_the_asked_language(
    session, company, app
):
    zeta = models.Application(name="zeta", executable="/bin/true", description="Z app")
    zeta.translations.append(
        models.ApplicationTranslation(lang="cs", name="Zéta", description="Aplikace Z")
    )
    hidden = models.Application(name="hidden", executable="/bin/true", enabled=False)
    session.add_all([zeta, hidden])
    session.commit()
    draft(session, company, zeta)  # assigns zeta to the company
    english = activation.catalogue(session, company.id, "en")
    assert [(c.name, c.assigned) for c in english] == [("zeta", True), ("probe", False)]
    assert english[0].description == "Z app"
    czech = activation.catalogue(session, company.id, "cs")
    assert (czech[0].name, czech[0].description) == ("Zéta", "Aplikace Z")
    assert czech[1].name == "probe"  # no Czech texts: its own


def test_the_proposal_is_a_free_name_and_the_default_executor(session, company, app):
    assert activation.proposal(session, company.id, app)["name"] == "probe"
    draft(session, company, app)
    found = activation.proposal(session, company.id, app)
    assert found["name"] == "probe 2" and found["executor"] == "native"


def test_sources_say_which_layer_gives_a_value(session, company, app, prototype):
    app.requirements = ["erp_api"]
    session.commit()
    companies.set_variable(session, company.id, "LIMIT", "5", actor=ACTOR)
    ctype = credentials.create_type(
        session, company=company.id, name="erp", actor=ACTOR, prototype_ref=prototype.prototype_id
    )
    login = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="erp login",
        values={"ENDPOINT": "https://erp.example", "ERP_TOKEN": "s3cret"},
        actor=ACTOR,
    )
    rt = draft(session, company, app)
    runtemplates.bind_credential(session, rt.id, login.id, actor=ACTOR)
    found = activation.sources(session, runtemplates.get(session, rt.id))
    assert found["REPORT_NAME"] == activation.Source(activation.FROM_DEFAULT)
    assert found["LIMIT"] == activation.Source(activation.FROM_COMPANY)
    assert found["ENDPOINT"] == activation.Source(activation.FROM_CREDENTIAL, "erp login")
    assert "ERP_TOKEN" not in found  # not a field of the application
    assert "NOTIFY" not in found


def test_the_configuration_step_refuses_a_required_value_left_blank(session, company, app):
    rt = draft(session, company, app)
    with pytest.raises(ValidationError) as refused:
        activation.configure(session, rt.id, {"LIMIT": "3", "ENDPOINT": None}, actor=ACTOR)
    assert refused.value.for_field("values.ENDPOINT") == ["required"]
    assert jobenv.configured_values(session, runtemplates.get(session, rt.id)) == {}
    activation.configure(
        session, rt.id, {"LIMIT": "3", "ENDPOINT": "https://erp.example"}, actor=ACTOR
    )
    stored = jobenv.configured_values(session, runtemplates.get(session, rt.id))
    assert stored == {"LIMIT": ("3", False), "ENDPOINT": ("https://erp.example", False)}
    # a value of the wrong type is the core's own refusal, beside its field
    with pytest.raises(ValidationError) as wrong:
        activation.configure(session, rt.id, {"LIMIT": "many"}, actor=ACTOR)
    assert wrong.value.for_field("values.LIMIT")


def test_a_blank_secret_keeps_the_stored_one_for_a_required_secret(session, company, app):
    app.field("API_PASSWORD").required = True
    session.commit()
    rt = draft(session, company, app, values={"ENDPOINT": "https://x.example"})
    rt_now = runtemplates.get(session, rt.id)
    assert activation.unfilled_after(session, rt_now, {"API_PASSWORD": ""}) == ["API_PASSWORD"]
    activation.configure(session, rt.id, {"API_PASSWORD": "hunter22"}, actor=ACTOR)
    rt_now = runtemplates.get(session, rt.id)
    assert activation.unfilled_after(session, rt_now, {"API_PASSWORD": ""}) == []
    assert activation.unfilled_after(session, rt_now, {"API_PASSWORD": None}) == ["API_PASSWORD"]


def test_gaps_name_each_missing_credential_and_value_with_its_step(
    session, company, app, prototype
):
    app.requirements = ["erp_api"]
    session.commit()
    rt = draft(session, company, app)
    assert activation.gaps(session, rt) == [
        activation.Gap("credentials", "credential", "erp_api"),
        activation.Gap("configuration", "value", "ENDPOINT"),
    ]
    with pytest.raises(ValidationError) as refused:
        activation.activate(session, rt.id, actor=ACTOR)
    assert refused.value.for_field("credentials.erp_api")
    assert refused.value.for_field("values.ENDPOINT") == ["required"]
    assert not runtemplates.get(session, rt.id).active
    ctype = credentials.create_type(
        session, company=company.id, name="erp", actor=ACTOR, prototype_ref=prototype.prototype_id
    )
    assert [t.id for t in activation.credential_types_of(session, company.id, "erp_api")] == [
        ctype.id
    ]
    login = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="erp login",
        values={"ENDPOINT": "https://erp.example"},
        actor=ACTOR,
    )
    runtemplates.bind_credential(session, rt.id, login.id, actor=ACTOR)
    rt = runtemplates.get(session, rt.id)
    assert activation.gaps(session, rt) == []  # the credential gives ENDPOINT too
    assert activation.activate(session, rt.id, actor=ACTOR).active
