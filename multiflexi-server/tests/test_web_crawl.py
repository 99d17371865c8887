"""Every page of the web UI checked at once by a crawler (tests/crawler.py): no dead
link, the security rules of every page, stable ids, and the roles across all pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from crawler import Crawl
from helpers import PASSWORD, check_page, csrf_of, signed_in

from multiflexi.core import models
from multiflexi.server.testing import LAPTOP, PHONE

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
#: the forms of a person's own account (profile, password, language, API tokens): every
#: signed-in user has them, viewers too; tests/test_web_users.py checks who may send them
OWN_ACCOUNT = re.compile(r"^/(profile(/|$)|tokens/\d+/revoke$)")


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
    company_forms = [form for form in bobs.forms if not OWN_ACCOUNT.match(form.action)]
    assert {form.action for form in company_forms} == {"/logout"}, "bob sees only sign-out"

    # the forms an admin sees, sent with bob's session: 403 in his company, 404 in another
    alices, brendas = crawl(world, "alice").forms, crawl(world, "brenda").forms
    bob = signed_in(world, "bob")
    token = csrf_of(bob.get("/").get_data(as_text=True))
    before = world.dump()
    for forms, refusal in ((brendas, 403), (alices, 404)):
        sent = [f for f in forms if f.action != "/logout" and not OWN_ACCOUNT.match(f.action)]
        assert len(sent) >= 8, "the admin's pages offer the run template and job actions"
        answers = {(form.page, form.action): form.send(bob, token).status_code for form in sent}
        assert answers == dict.fromkeys(answers, refusal)
    assert world.dump() == before


# -- in a real browser ----------------------------------------------------------------------


def _richer(world) -> None:
    """A failed job with coloured output on both streams, so its page shows them."""
    with world.session() as session:
        job = session.get(models.Job, world.ids["done_a"])
        job.state, job.exit_code = "failed", 2
        for seq, (stream, text) in enumerate(
            [
                ("stdout", "\x1b[32mconnected\x1b[0m to https://probe.example"),
                ("stderr", "\x1b[31merror:\x1b[0m the bank answered 503 Service Unavailable"),
                ("stdout", "a long line " + "without spaces-" * 12),
            ],
            start=4,
        ):
            session.add(models.JobOutputLine(job_id=job.id, seq=seq, stream=stream, text=text))
        session.commit()


def _check(browser, name: str, ready: str, status: int = 200) -> None:
    check_page(browser, f"page-{name}", ready, status)


def test_every_main_page_in_a_browser_has_no_console_error_nor_axe_violation(browser, world):
    _richer(world)
    ids = world.ids
    browser.open("/login")
    _check(browser, "sign-in", "login-form")
    browser.sign_in("alice", PASSWORD)
    for name, path, ready, *status in (
        ("dashboard", "/", "signed-in-as"),
        ("jobs", "/jobs", "job-row"),
        ("job", f"/jobs/{ids['done_a']}", "output-line"),
        ("run-templates", "/run-templates", "signed-in-as"),
        ("run-template", f"/run-templates/{ids['rt_a']}", "configuration-form"),
        ("launch", f"/run-templates/{ids['rt_a']}/launch", "launch-form"),
        ("delete", f"/run-templates/{ids['rt_a']}/delete", "delete-submit"),
        ("search", "/search?q=probe", "search-results"),
        ("not-found", f"/jobs/{ids['done_b']}", "error-page", 404),  # another company's job
    ):
        browser.open(path)
        _check(browser, name, ready, *status)


def test_the_first_administrator_page_in_a_browser(browser, world):
    with world.session() as session:
        for table in (models.ApiToken, models.CompanyUser, models.User):
            session.execute(sa.delete(table))
        session.commit()
    browser.open("/login")
    browser.find("create-admin").click()
    browser.wait(lambda: browser.path == "/setup", "the first administrator's page")
    _check(browser, "first-admin", "setup-form")


def test_the_search_box_and_the_menu_work_on_a_phone(browser, world):
    browser.sign_in("alice", PASSWORD)
    browser.driver.set_window_size(*PHONE)
    browser.screenshots.mkdir(parents=True, exist_ok=True)
    try:
        box = browser.find("search-box")
        assert box.is_displayed()
        width = browser.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0], "nothing sticks out sideways"
        box.click()
        box.send_keys("probe")
        popup = browser.find("search-popup")
        browser.wait(lambda: popup.is_displayed() and "probe alpha" in popup.text, "results")
        browser.driver.save_screenshot(str(browser.screenshots / "phone-search.png"))
        browser.find("result-run-templates").click()
        browser.wait(lambda: browser.path == f"/run-templates/{world.ids['rt_a']}", "the hit")
        browser.find("menu-toggle").click()
        browser.wait(lambda: browser.find("menu-jobs").is_displayed(), "the open menu")
        browser.driver.save_screenshot(str(browser.screenshots / "phone-menu-open.png"))
        browser.find("menu-jobs").click()
        browser.wait(lambda: browser.path == "/jobs", "the job list from the menu")
        assert browser.console_errors() == []
    finally:
        browser.driver.set_window_size(*LAPTOP)
