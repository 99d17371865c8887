"""Every page of the web UI checked at once by a crawler (tests/crawler.py): no dead
link, the security rules of every page, stable ids, and the roles across all pages."""

from __future__ import annotations

import re

import pytest
from crawler import Crawl, csrf_of, signed_in

PEOPLE = ("root", "alice", "amy", "bob", "nobody")
#: besides the dashboard, searches whose results link to every kind of object
SEEDS = ("/search?q=probe", "/search?q=company")
#: the pages of one company's objects: 404 for anyone without a role in that company
COMPANY_PAGE = re.compile(r"^/(jobs|run-templates)/\d+(/|$|\?)")
#: what each kind of company page looks like, to prove the crawl reached every kind
KINDS = {
    "run template": re.compile(r"^/run-templates/\d+$"),
    "job": re.compile(r"^/jobs/\d+$"),
    "artifact": re.compile(r"^/jobs/\d+/artifacts/\d+$"),
    "output download": re.compile(r"^/jobs/\d+/output\.txt$"),
    "schedule preview": re.compile(r"^/run-templates/\d+/preview"),
    "launch": re.compile(r"^/run-templates/\d+/launch$"),
    "delete confirmation": re.compile(r"^/run-templates/\d+/delete$"),
}


def crawl(world, who: str) -> Crawl:
    return Crawl(signed_in(world, who), who, SEEDS)


def company_pages(found: Crawl) -> set[str]:
    return {url for url in found.urls() if COMPANY_PAGE.match(url)}


@pytest.mark.parametrize("who", PEOPLE)
def test_every_page_reached_from_the_dashboard_keeps_the_rules(world, who):
    """No dead link; the CSP header and no inline script, handler or style attribute; no
    planted secret; an id or data-testid on every interactive element (hidden inputs
    aside); the CSRF field in every POST form. Each problem names the page that linked."""
    found = crawl(world, who)
    assert found.problems == []
    reached = found.urls()
    assert {"/", "/jobs", "/run-templates", "/search?q=probe"} <= reached
    assert any(url.startswith("/static/") for url in found.resources)
    if who in ("root", "alice", "amy"):
        kinds = {kind for kind, shape in KINDS.items() if any(map(shape.match, reached))}
        assert kinds == set(KINDS), "the crawl reached every kind of company page"
    if who == "nobody":  # no role anywhere: the lists are empty, no company page is linked
        assert company_pages(found) == set()
        assert not any(
            "Company alpha" in p.body or "Company beta" in p.body for p in found.pages.values()
        )


def test_another_companys_pages_answer_404_to_everyone_without_a_role_in_it(world):
    alices = company_pages(crawl(world, "alice"))
    assert len(alices) >= len(KINDS)
    for who in ("nobody", "bob"):  # bob is a viewer of the other company
        client = signed_in(world, who)
        for partial in (False, True):
            headers = {"HX-Request": "true"} if partial else {}
            answers = {url: client.get(url, headers=headers).status_code for url in alices}
            assert answers == dict.fromkeys(alices, 404), who


def test_a_viewer_sees_no_form_that_changes_anything_and_posting_one_changes_nothing(world):
    bobs = crawl(world, "bob")
    assert bobs.problems == []
    assert company_pages(bobs), "bob reaches the pages of his company"
    assert {form.action for form in bobs.forms} == {"/logout"}, "bob sees only sign-out"

    # the forms an admin sees, sent with bob's session: 403 in his company, 404 in another
    alices, brendas = crawl(world, "alice").forms, crawl(world, "brenda").forms
    bob = signed_in(world, "bob")
    token = csrf_of(bob.get("/").get_data(as_text=True))
    before = world.dump()
    for forms, refusal in ((brendas, 403), (alices, 404)):
        sent = [form for form in forms if form.action != "/logout"]
        assert len(sent) >= 8, "the admin's pages offer the run template and job actions"
        answers = {(form.page, form.action): form.send(bob, token).status_code for form in sent}
        assert answers == dict.fromkeys(answers, refusal)
    assert world.dump() == before
