"""The application catalogue: search by text, filter by tags (all of them), texts in the
reader's language, one application described with its secret defaults redacted, and what
uses an application."""

from pathlib import Path

import pytest

from multiflexi.core import audit, catalog, companies, jobs, manifests, runtemplates
from multiflexi.core.errors import NotFound
from multiflexi.database.tables import REDACTED

ACTOR = audit.Actor("tester", source="test")
FIXTURES = Path(__file__).parent / "fixtures" / "apps"
FIO = "Spoje-NET__fiobank-statement-tools__fiobank_statement_downloader.multiflexi.app.json"


def manifest(name: str, tags: list[str], **extra) -> dict:
    return {
        "name": name,
        "description": f"{name} does things",
        "executable": f"/usr/bin/{name.lower()}",
        "tags": tags,
        "environment": {},
        **extra,
    }


@pytest.fixture
def shelf(session) -> dict[str, int]:
    ids = {}
    for name, tags in (
        ("Alpha", ["bank", "csv"]),
        ("Beta", ["bank"]),
        ("Gamma", ["csv", "report"]),
        ("Delta_100%", []),
    ):
        ids[name] = manifests.import_manifest(
            session, manifest(name, tags), actor=ACTOR
        ).application_id
    return ids


def names(found: catalog.Catalogue) -> list[str]:
    return [e.name for e in found.page.items]


def test_tags_combine_so_that_an_application_carries_every_one_chosen(session, shelf):
    assert names(catalog.search(session, lang="en")) == ["Alpha", "Beta", "Delta_100%", "Gamma"]
    assert names(catalog.search(session, lang="en", tags=["bank"])) == ["Alpha", "Beta"]
    assert names(catalog.search(session, lang="en", tags=["bank", "csv"])) == ["Alpha"]
    assert names(catalog.search(session, lang="en", tags=["nothing"])) == []
    found = catalog.search(session, lang="en", tags=["csv"])
    assert found.tags == [("bank", 2), ("csv", 2), ("report", 1)]
    assert found.chosen == ("csv",)


def test_text_search_reads_name_description_uuid_executable_and_takes_wildcards_literally(
    session, shelf
):
    assert names(catalog.search(session, lang="en", text="gAmMa")) == ["Gamma"]
    assert names(catalog.search(session, lang="en", text="/usr/bin/beta")) == ["Beta"]
    assert names(catalog.search(session, lang="en", text="alpha does")) == ["Alpha"]
    assert names(catalog.search(session, lang="en", text="_100%")) == ["Delta_100%"]
    assert names(catalog.search(session, lang="en", text="%")) == ["Delta_100%"]
    found = catalog.search(session, lang="en", text="a", tags=["csv"], limit=1, offset=1)
    assert (names(found), found.page.total) == (["Gamma"], 2)


def test_names_and_descriptions_follow_the_language_and_search_finds_the_czech_ones(session):
    result = manifests.import_manifest(session, FIXTURES / FIO, actor=ACTOR)
    czech = catalog.search(session, lang="cs", text="Stahovač")
    assert names(czech) == ["Stahovač Fio výpisů"]
    assert names(catalog.search(session, lang="en")) == ["Fio Statement Downloader"]
    assert names(catalog.search(session, lang="de")) == ["Fio Statement Downloader"]
    view = catalog.describe(session, result.application_id, lang="cs")
    assert view.name == "Stahovač Fio výpisů"
    assert view.requirements == [catalog.Requirement("FioBank", None)]


def test_a_described_application_never_gives_a_secret_default(session):
    doc = manifest(
        "Vault",
        [],
        environment={
            "API_KEY": {"type": "password", "defval": "PLANTED-default-1", "required": True},
            "MODE": {
                "type": "string",
                "defval": "fast",
                "description": {"en": "mode", "cs": "režim"},
            },
        },
        exitCodes={
            "3": {"description": {"en": "no data", "cs": "žádná data"}, "severity": "warning"}
        },
        artifacts=[{"name": "report", "path": "out/*.csv", "type": "text/csv"}],
    )
    app_id = manifests.import_manifest(session, doc, actor=ACTOR).application_id
    view = catalog.describe(session, app_id, lang="cs")
    by_name = {f.name: f for f in view.fields}
    assert (by_name["API_KEY"].secret, by_name["API_KEY"].default) == (True, REDACTED)
    assert (by_name["MODE"].default, by_name["MODE"].description) == ("fast", "režim")
    assert [(c.code, c.description, c.severity) for c in view.exit_codes] == [
        (3, "žádná data", "warning")
    ]
    assert [(a.name, a.pattern) for a in view.artifacts] == [("report", "out/*.csv")]
    assert "PLANTED" not in repr(view.fields)
    with pytest.raises(NotFound):
        catalog.describe(session, 999_999, lang="en")


def test_usage_counts_companies_run_templates_and_jobs_within_the_companies_given(session, shelf):
    app_id = shelf["Alpha"]
    acme = companies.create(session, name="Acme", actor=ACTOR)
    other = companies.create(session, name="Other", actor=ACTOR)
    rt, _ = companies.assign_application(session, acme.id, app_id, actor=ACTOR)
    runtemplates.create(session, company=acme.id, app_id=app_id, actor=ACTOR, name="second")
    companies.assign_application(session, other.id, app_id, actor=ACTOR)
    jobs.launch(session, rt.id, actor=ACTOR)
    everything = catalog.usage(session, app_id)
    assert [(u.company.name, u.run_templates, u.assigned) for u in everything.companies] == [
        ("Acme", 2, True),
        ("Other", 1, True),
    ]
    assert (everything.run_templates, everything.jobs) == (3, 1)
    seen = catalog.usage(session, app_id, company_ids={other.id})
    assert ([u.company.name for u in seen.companies], seen.run_templates, seen.jobs) == (
        ["Other"],
        1,
        0,
    )
    templates, job_count = catalog.company_usage(session, acme.id, app_id)
    assert ([t.name for t in templates], job_count) == (["Alpha", "second"], 1)
    found = catalog.search(session, lang="en", company_id=acme.id)
    assert [(e.name, e.assigned) for e in found.page.items][:2] == [
        ("Alpha", True),
        ("Beta", False),
    ]
    assert catalog.entry(session, app_id, lang="en", company_id=acme.id).assigned
