"""The global search (multiflexi.core.search): names by part, a job by its id, and
only what the principal may see. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from multiflexi.core import access, audit, search, users
from multiflexi.core import models as m
from multiflexi.core.errors import ValidationError

ADMIN = audit.Actor.cli()


def principal(session, login, *, company_id=None, is_admin=False):
    user = users.create(session, login, actor=ADMIN, is_admin=is_admin)
    if company_id is not None:
        users.grant(session, company_id, user.id, "viewer", actor=ADMIN)
    return access.principal_for(session, user)


@pytest.fixture
def place(session):
    app = m.Application(
        name="Bank Statements", code="bank_import", executable="/bin/true", version="2.1"
    )
    other = m.Application(name="Reminder", executable="/bin/true")
    a = m.Company(name="Alpha Trading", slug="alpha", ic="12345678")
    b = m.Company(name="Beta Foods", slug="beta")
    session.add_all([app, other, a, b])
    session.flush()
    rts = [
        m.RunTemplate(company_id=a.id, application_id=app.id, name="Nightly bank import"),
        m.RunTemplate(company_id=a.id, application_id=other.id, name="50%_off reminder"),
        m.RunTemplate(company_id=b.id, application_id=app.id, name="Beta bank import"),
    ]
    session.add_all(rts)
    session.flush()
    job_a = m.Job(
        run_template_id=rts[0].id,
        company_id=a.id,
        application_id=app.id,
        state="success",
        scheduled_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    job_b = m.Job(
        run_template_id=rts[2].id,
        company_id=b.id,
        application_id=app.id,
        state="failed",
        scheduled_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    session.add_all([job_a, job_b])
    session.commit()
    return {
        "a": a.id,
        "b": b.id,
        "app": app.id,
        "rts": [rt.id for rt in rts],
        "job_a": job_a.id,
        "job_b": job_b.id,
    }


def names(group):
    return [hit.name for hit in group.hits]


def test_a_run_template_is_found_by_part_of_its_name_in_the_users_companies_only(session, place):
    alice = principal(session, "alice", company_id=place["a"])
    found = search.find(session, alice, "BANK imp")
    assert names(found.run_templates) == ["Nightly bank import"]
    hit = found.run_templates.hits[0]
    assert hit.id == place["rts"][0] and hit.company_id == place["a"]
    assert hit.detail == "Bank Statements · Alpha Trading"
    root = principal(session, "root", is_admin=True)
    assert names(search.find(session, root, "bank imp").run_templates) == [
        "Beta bank import",
        "Nightly bank import",
    ]
    nobody = principal(session, "nobody")
    assert search.find(session, nobody, "bank").run_templates.hits == []


def test_applications_are_the_catalogue_and_companies_are_ones_own(session, place):
    alice = principal(session, "alice", company_id=place["a"])
    found = search.find(session, alice, "bank")
    assert names(found.applications) == ["Bank Statements"]  # by name (and code, title)
    assert names(search.find(session, alice, "bank_imp").applications) == ["Bank Statements"]
    assert names(search.find(session, alice, "a").companies) == ["Alpha Trading"]
    assert names(search.find(session, alice, "beta").companies) == []
    assert names(search.find(session, alice, "1234567").companies) == ["Alpha Trading"]  # IČ


def test_a_job_is_found_by_its_id_only_when_the_user_may_see_it(session, place):
    alice = principal(session, "alice", company_id=place["a"])
    for text in (str(place["job_a"]), f"#{place['job_a']}", f" # {place['job_a']} "):
        job = search.find(session, alice, text).job
        assert job is not None, text
        assert (job.id, job.state, job.run_template_name, job.company_name) == (
            place["job_a"],
            "success",
            "Nightly bank import",
            "Alpha Trading",
        )
    assert search.find(session, alice, f"#{place['job_b']}").job is None
    assert search.find(session, alice, "#999999").job is None
    assert search.find(session, alice, "9" * 40).job is None  # no such integer
    root = principal(session, "root", is_admin=True)
    assert search.find(session, root, f"#{place['job_b']}").job.id == place["job_b"]


def test_wildcards_are_plain_characters_and_blank_finds_nothing(session, place):
    root = principal(session, "root", is_admin=True)
    assert names(search.find(session, root, "50%_").run_templates) == ["50%_off reminder"]
    assert search.find(session, root, "%").run_templates.hits[0].name == "50%_off reminder"
    assert names(search.find(session, root, "_").run_templates) == ["50%_off reminder"]
    blank = search.find(session, root, "   ")
    assert blank.empty and blank.text == ""


def test_a_group_says_when_more_matched_than_it_lists(session, place):
    root = principal(session, "root", is_admin=True)
    found = search.find(session, root, "i", limit=1)
    assert len(found.run_templates.hits) == 1 and found.run_templates.more
    assert not search.find(session, root, "nightly", limit=1).run_templates.more


def test_too_long_a_text_is_refused_with_a_clear_message(session, place):
    root = principal(session, "root", is_admin=True)
    with pytest.raises(ValidationError) as refused:
        search.find(session, root, "x" * (search.MAX_TEXT + 1))
    assert f"at most {search.MAX_TEXT} characters" in str(refused.value.errors)
