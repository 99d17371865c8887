"""The activation wizard: company → application → run template → credentials →
configuration → schedule and actions → summary and activate; each step's checks, who may
use it, what abandoning it leaves, and the whole way to a launched job in a browser."""

from __future__ import annotations

import re

import pytest
from crawler import Crawl
from helpers import PASSWORD, signed_in
from selenium.webdriver.support.ui import Select

from multiflexi.core import audit, companies, jobenv, jobs, models, runtemplates

SYSTEM = audit.Actor.system("tests")
#: the secret the wizard's tests type into the secret field (never in a page afterwards)
WIZARD_SECRET = "PLANTED-wizard-secret-5d1f"


def post(client, path: str, **data: str):
    return client.post(path, data={"csrf_token": client.token, **data})


def make_app(world, name: str, requirements: list[str]) -> int:
    """An application with a required field, a secret field and an optional number."""
    with world.session() as session:
        app = models.Application(
            name=name,
            executable="/usr/bin/env",
            version="3.0",
            description=f"{name} for the wizard",
            requirements=requirements,
        )
        for position, (field, ftype, extra) in enumerate(
            [
                ("TARGET", "string", {"required": True, "description": "where to send it"}),
                ("WIZ_TOKEN", "password", {"required": True}),
                ("LEVEL", "integer", {"default_value": "2"}),
            ]
        ):
            app.fields.append(
                models.ApplicationField(name=field, type=ftype, position=position, **extra)
            )
        session.add(app)
        session.commit()
        return app.id


@pytest.fixture
def wizard_app(world) -> int:
    """Needs a probe_api credential (company A has one: "probe login alpha")."""
    return make_app(world, "Wizard", ["probe_api"])


@pytest.fixture
def plain_app(world) -> int:
    """Needs no credential: the wizard skips that step."""
    return make_app(world, "Plain", [])


def run_templates_of(world, app_id: int) -> list[models.RunTemplate]:
    with world.session() as session:
        found = runtemplates.list_run_templates(session, company_id=world.ids["company_a"])
        return [rt for rt in found.items if rt.application_id == app_id]


def created(world, client, app_id: int, name: str = "wizard one") -> int:
    answer = post(
        client,
        "/activate",
        company_id=str(world.ids["company_a"]),
        app_id=str(app_id),
        name=name,
        executor="native",
        note="made by the wizard",
    )
    assert answer.status_code == 303, answer.text
    (rt,) = [rt for rt in run_templates_of(world, app_id) if rt.name == name]
    return rt.id


def stored(world, rt_id: int) -> dict[str, str]:
    with world.session() as session:
        rt = runtemplates.get(session, rt_id)
        return {k: v for k, (v, _secret) in jobenv.configured_values(session, rt).items()}


def clean(page) -> None:
    assert b"PLANTED-" not in page.data
    assert not re.search(rb"<script(?![^>]*\bsrc=)", page.data)
    assert not re.search(rb"\son[a-z]+=", page.data)
    assert b" style=" not in page.data


# -- who may use it ---------------------------------------------------------------------------


def test_a_viewer_cannot_start_the_wizard_nor_change_anything(world, wizard_app):
    bob = signed_in(world, "bob")  # viewer of B only
    assert bob.get("/activate").status_code == 403
    assert bob.get(f"/activate?company_id={world.ids['company_b']}").status_code == 403
    before = world.dump()
    refused = post(
        bob, "/activate", company_id=str(world.ids["company_b"]), app_id=str(wizard_app), name="x"
    )
    assert refused.status_code == 403
    rt_b = world.ids["rt_b"]
    assert bob.get(f"/activate/{rt_b}/configuration").status_code == 403
    assert post(bob, f"/activate/{rt_b}/schedule", interval_code="d").status_code == 403
    assert world.dump() == before
    assert signed_in(world, "nobody").get("/activate").status_code == 403


def test_a_company_the_user_has_no_role_in_is_not_found(world, wizard_app):
    brenda = signed_in(world, "brenda")  # admin of B, nothing in A
    company_a = world.ids["company_a"]
    assert brenda.get(f"/activate?company_id={company_a}").status_code == 404
    assert brenda.get(f"/activate?company_id={company_a}&app_id={wizard_app}").status_code == 404
    for step in ("runtemplate", "credentials", "configuration", "schedule", "summary"):
        assert brenda.get(f"/activate/{world.ids['rt_a']}/{step}").status_code == 404, step
    refused = post(brenda, "/activate", company_id=str(company_a), app_id=str(wizard_app))
    assert refused.status_code == 404
    assert run_templates_of(world, wizard_app) == []


def test_only_the_companies_the_user_manages_are_offered(world):
    page = signed_in(world, "amy").get("/activate")  # manager of A
    assert page.status_code == 200
    assert b'data-testid="company-choice-%d"' % world.ids["company_a"] in page.data
    assert b'data-testid="company-choice-%d"' % world.ids["company_b"] not in page.data
    root = signed_in(world, "root").get("/activate")
    assert b"Company alpha" in root.data and b"Company beta" in root.data


# -- steps 1 to 3 ----------------------------------------------------------------------------------


def test_steps_one_and_two_check_the_choice_and_write_nothing(world, wizard_app):
    alice = signed_in(world, "alice")
    company_a = world.ids["company_a"]
    before = world.dump()
    missing = alice.get("/activate?at=application")
    assert missing.status_code == 422
    assert b'data-testid="error-company_id"' in missing.data
    apps = alice.get(f"/activate?company_id={company_a}")
    assert apps.status_code == 200
    assert b'data-testid="app-choice-%d"' % wizard_app in apps.data
    assert b"Wizard for the wizard" in apps.data  # the description
    # the application already assigned to the company comes first, marked
    first = re.search(rb'data-testid="app-choice-(\d+)"', apps.data)
    assert first and int(first.group(1)) == world.ids["application"]
    assert b'data-testid="assigned-%d"' % world.ids["application"] in apps.data
    no_app = alice.get(f"/activate?company_id={company_a}&at=runtemplate")
    assert no_app.status_code == 422 and b'data-testid="error-app_id"' in no_app.data
    form = alice.get(f"/activate?company_id={company_a}&app_id={wizard_app}")
    assert form.status_code == 200
    assert b'value="Wizard"' in form.data  # the proposed name
    assert b'data-testid="will-assign"' in form.data
    back = alice.get(f"/activate?at=application&company_id={company_a}&app_id={wizard_app}")
    assert b'id="app-%d" name="app_id" value="%d" data-testid="choose-app-%d"\n' % (
        (wizard_app,) * 3
    ) in back.data or re.search(rb'id="app-%d"[^>]*checked' % wizard_app, back.data)
    assert alice.get("/activate?company_id=999999").status_code == 404
    assert alice.get(f"/activate?company_id={company_a}&app_id=999999").status_code == 404
    # abandoning after step 2 leaves nothing behind
    assert world.dump() == before


def test_step_three_creates_the_run_template_inactive_and_says_it_assigned_the_app(
    world, wizard_app
):
    alice = signed_in(world, "alice")
    answer = post(
        alice,
        "/activate",
        company_id=str(world.ids["company_a"]),
        app_id=str(wizard_app),
        name="wizard one",
        executor="native",
    )
    assert answer.status_code == 303
    (rt,) = run_templates_of(world, wizard_app)
    assert not rt.active
    assert answer.headers["Location"].endswith(f"/activate/{rt.id}/credentials")
    page = alice.get(answer.headers["Location"])
    assert "now assigned to Company alpha" in page.text
    # a duplicate name is refused beside the name, nothing more is made
    again = post(
        alice,
        "/activate",
        company_id=str(world.ids["company_a"]),
        app_id=str(wizard_app),
        name="wizard one",
    )
    assert again.status_code == 409 and b'data-testid="error-name"' in again.data
    bad = post(
        alice,
        "/activate",
        company_id=str(world.ids["company_a"]),
        app_id=str(wizard_app),
        name="other",
        executor="teleport",
    )
    assert bad.status_code == 422 and b'data-testid="error-executor"' in bad.data
    assert len(run_templates_of(world, wizard_app)) == 1


def test_abandoned_after_step_three_the_run_template_page_says_what_is_missing(world, wizard_app):
    alice = signed_in(world, "alice")
    rt_id = created(world, alice, wizard_app)
    page = alice.get(f"/run-templates/{rt_id}")
    assert page.status_code == 200
    missing = re.search(r'data-testid="missing">([^<]*)<', page.text)
    assert missing and "TARGET" in missing.group(1) and "WIZ_TOKEN" in missing.group(1)
    assert "none bound" in page.text  # the probe_api credential
    assert b'data-testid="rt-active"><span class="badge state-muted">inactive' in page.data
    summary = alice.get(f"/activate/{rt_id}/summary")
    for name in ("probe_api", "TARGET", "WIZ_TOKEN"):
        assert f'data-testid="gap-{name}"' in summary.text
    assert re.search(r'data-testid="activate"[^>]*disabled', summary.text)
    refused = post(alice, f"/activate/{rt_id}/summary")
    assert refused.status_code == 422
    assert not run_templates_of(world, wizard_app)[0].active


# -- steps 4 to 7 ----------------------------------------------------------------------------------


def test_credentials_step_binds_one_of_each_required_kind(world, wizard_app):
    alice = signed_in(world, "alice")
    rt_id = created(world, alice, wizard_app)
    page = alice.get(f"/activate/{rt_id}/credentials")
    assert b"probe login alpha" in page.data
    assert b"probe login beta" not in page.data  # company B's
    unchosen = post(alice, f"/activate/{rt_id}/credentials")
    assert unchosen.status_code == 422
    assert b'data-testid="error-credentials.probe_api"' in unchosen.data
    foreign = post(
        alice,
        f"/activate/{rt_id}/credentials",
        **{"credentials.probe_api": str(world.ids["credential_b"])},
    )
    assert foreign.status_code == 422
    with world.session() as session:
        assert runtemplates.credentials(session, rt_id) == []
    done = post(
        alice,
        f"/activate/{rt_id}/credentials",
        **{"credentials.probe_api": str(world.ids["credential_a"])},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/configuration")
    with world.session() as session:
        assert [c.id for c in runtemplates.credentials(session, rt_id)] == [
            world.ids["credential_a"]
        ]
    again = alice.get(f"/activate/{rt_id}/credentials")  # reloading shows the stored state
    assert b'data-testid="bound-probe_api"' in again.data


def test_an_application_that_needs_no_credential_skips_that_step(world, plain_app):
    alice = signed_in(world, "alice")
    answer = post(
        alice, "/activate", company_id=str(world.ids["company_a"]), app_id=str(plain_app), name="p"
    )
    (rt,) = run_templates_of(world, plain_app)
    assert answer.headers["Location"].endswith(f"/activate/{rt.id}/configuration")
    page = alice.get(answer.headers["Location"])
    assert b'data-testid="step-credentials" data-state="skipped"' in page.data
    skipped = alice.get(f"/activate/{rt.id}/credentials")
    assert skipped.status_code == 303 and skipped.headers["Location"].endswith("/configuration")
    back = re.search(r'href="([^"]+)" data-testid="back"', page.text)
    assert back and back.group(1).endswith(f"/activate/{rt.id}/runtemplate")
    earlier = alice.get(back.group(1))  # Back shows what was entered
    assert re.search(r'data-testid="field-name"\s+value="p"', earlier.text)
    assert 'data-testid="back"' not in earlier.text  # the company and application are fixed now


def test_configuration_step_asks_for_required_values_and_keeps_secrets_out(world, plain_app):
    alice = signed_in(world, "alice")
    rt_id = created(world, alice, plain_app)
    page = alice.get(f"/activate/{rt_id}/configuration")
    assert re.search(r'name="values.WIZ_TOKEN" type="password"', page.text)
    assert "Default: <code>2</code>" in page.text
    blank = post(alice, f"/activate/{rt_id}/configuration", **{"values.LEVEL": "5"})
    assert blank.status_code == 422
    assert b'data-testid="error-values.TARGET"' in blank.data
    assert b'data-testid="error-values.WIZ_TOKEN"' in blank.data
    assert b'value="5"' in blank.data  # what was entered is kept
    assert stored(world, rt_id) == {}
    wrong = post(
        alice,
        f"/activate/{rt_id}/configuration",
        **{"values.TARGET": "x", "values.WIZ_TOKEN": WIZARD_SECRET, "values.LEVEL": "many"},
    )
    assert wrong.status_code == 422 and b'data-testid="error-values.LEVEL"' in wrong.data
    assert WIZARD_SECRET.encode() not in wrong.data
    assert stored(world, rt_id) == {}
    done = post(
        alice,
        f"/activate/{rt_id}/configuration",
        **{"values.TARGET": "ledger", "values.WIZ_TOKEN": WIZARD_SECRET, "values.LEVEL": ""},
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/schedule")
    assert stored(world, rt_id) == {"TARGET": "ledger", "WIZ_TOKEN": WIZARD_SECRET}
    again = alice.get(f"/activate/{rt_id}/configuration")
    assert b'value="ledger"' in again.data and b'data-testid="stored-WIZ_TOKEN"' in again.data
    clean(again)
    # a blank secret keeps the stored one
    kept = post(alice, f"/activate/{rt_id}/configuration", **{"values.TARGET": "ledger"})
    assert kept.status_code == 303 and stored(world, rt_id)["WIZ_TOKEN"] == WIZARD_SECRET


def test_a_value_a_company_variable_gives_is_shown_as_provided(world, plain_app):
    alice = signed_in(world, "alice")
    with world.session() as session:
        companies.set_variable(
            session, world.ids["company_a"], "TARGET", "from-company", actor=SYSTEM
        )
    rt_id = created(world, alice, plain_app)
    page = alice.get(f"/activate/{rt_id}/configuration")
    assert b'data-testid="provided-TARGET"' in page.data
    done = post(alice, f"/activate/{rt_id}/configuration", **{"values.WIZ_TOKEN": WIZARD_SECRET})
    assert done.status_code == 303
    assert "TARGET" not in stored(world, rt_id)


def test_a_bad_cron_is_shown_beside_the_cron_field_and_nothing_is_stored(world, plain_app):
    alice = signed_in(world, "alice")
    rt_id = created(world, alice, plain_app)
    page = alice.get(f"/activate/{rt_id}/schedule")
    assert page.status_code == 200 and b'data-testid="field-cron"' in page.data
    bad = post(
        alice, f"/activate/{rt_id}/schedule", interval_code="c", cron="61 * * * *", timezone=""
    )
    assert bad.status_code == 422
    error = re.search(r'data-testid="error-cron">([^<]+)<', bad.text)
    assert error, "the message is beside the cron field"
    assert 'value="61 * * * *"' in bad.text  # kept for correcting
    with world.session() as session:
        rt = runtemplates.get(session, rt_id)
        assert (rt.interval_code, rt.cron) == ("n", None)
    zone = post(alice, f"/activate/{rt_id}/schedule", interval_code="d", timezone="Mars/Base")
    assert zone.status_code == 422 and b'data-testid="error-timezone"' in zone.data
    good = post(
        alice,
        f"/activate/{rt_id}/schedule",
        interval_code="c",
        cron="15 6 * * 1-5",
        timezone="Europe/Prague",
        delay="0",
    )
    assert good.status_code == 303 and good.headers["Location"].endswith("/summary")
    with world.session() as session:
        rt = runtemplates.get(session, rt_id)
        assert (rt.interval_code, rt.cron, rt.timezone) == ("c", "15 6 * * 1-5", "Europe/Prague")
    again = alice.get(f"/activate/{rt_id}/schedule")
    assert again.text.count('data-testid="occurrence"') == 5
    assert 'value="15 6 * * 1-5"' in again.text


def test_the_summary_activates_when_nothing_is_missing_then_offers_launch(world, wizard_app):
    alice = signed_in(world, "alice")
    rt_id = created(world, alice, wizard_app)
    post(
        alice,
        f"/activate/{rt_id}/credentials",
        **{"credentials.probe_api": str(world.ids["credential_a"])},
    )
    post(
        alice,
        f"/activate/{rt_id}/configuration",
        **{"values.TARGET": "ledger", "values.WIZ_TOKEN": WIZARD_SECRET},
    )
    post(alice, f"/activate/{rt_id}/schedule", interval_code="d", timezone="")
    page = alice.get(f"/activate/{rt_id}/summary")
    assert 'data-testid="gaps"' not in page.text
    assert 'data-testid="launch-now"' not in page.text
    assert "probe login alpha" in page.text and "ledger" in page.text
    clean(page)
    answer = post(alice, f"/activate/{rt_id}/summary")
    assert answer.status_code == 303
    with world.session() as session:
        assert runtemplates.get(session, rt_id).active
    done = alice.get(f"/activate/{rt_id}/summary")
    assert f'href="/run-templates/{rt_id}/launch"' in done.text
    assert 'data-testid="activated"' in done.text
    clean(done)


def test_no_page_of_the_wizard_shows_a_secret(world, wizard_app):
    alice = signed_in(world, "alice")
    company_a = world.ids["company_a"]
    paths = [
        "/activate",
        f"/activate?company_id={company_a}",
        f"/activate?company_id={company_a}&app_id={world.ids['application']}",
    ]
    rt_a = world.ids["rt_a"]  # holds the planted secrets
    paths += [
        f"/activate/{rt_a}/{step}"
        for step in ("runtemplate", "credentials", "configuration", "schedule", "summary")
    ]
    for path in paths:  # (Probe needs no credential: that step leads on to the next)
        page = alice.get(path, follow_redirects=True)
        assert page.status_code == 200, path
        clean(page)


def test_a_crawl_from_the_wizard_finds_every_page_keeping_the_rules(world, wizard_app):
    """No dead link, no 4xx for the forms' defaults, the CSP, ids, CSRF and no secret, on
    every page the wizard leads to (its steps of an abandoned run template included)."""
    alice = signed_in(world, "alice")
    rt_id = created(world, alice, wizard_app)
    seeds = (
        "/activate",
        f"/activate/{rt_id}/credentials",
        f"/activate/{world.ids['rt_a']}/summary",
    )
    found = Crawl(alice, "alice", seeds)
    assert found.problems == []
    reached = found.urls()
    for step in ("runtemplate", "credentials", "configuration", "schedule", "summary"):
        assert f"/activate/{rt_id}/{step}" in reached, step
    assert any(url.startswith("/activate?") and "app_id=" in url for url in reached)


# -- in a real browser ---------------------------------------------------------------------------


def checked(browser) -> None:
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    assert "PLANTED-" not in browser.source()


def test_the_wizard_end_to_end_to_a_launched_job(browser, world, wizard_app):
    browser.sign_in("root", PASSWORD)
    browser.open("/activate")
    checked(browser)
    browser.find(f"choose-company-{world.ids['company_a']}").click()
    browser.screenshot("activate-company")
    browser.submit("next")
    assert browser.find("step-application").get_attribute("data-state") == "current"
    checked(browser)
    browser.find("app-filter").send_keys("wizard")
    browser.wait(
        lambda: not browser.find(f"app-choice-{world.ids['application']}").is_displayed(),
        "the filter hides the other application",
    )
    browser.find(f"app-choice-{wizard_app}").click()
    browser.screenshot("activate-application")
    browser.submit("next")
    checked(browser)  # step 3
    browser.fill({"name": "wizard in a browser"})
    browser.submit("next")
    assert "/credentials" in browser.path
    checked(browser)
    Select(browser.find("field-credentials.probe_api")).select_by_visible_text(
        Select(browser.find("field-credentials.probe_api")).options[1].text
    )
    browser.submit("next")
    assert "/configuration" in browser.path
    checked(browser)
    browser.fill({"values.TARGET": "ledger", "values.WIZ_TOKEN": WIZARD_SECRET})
    browser.screenshot("activate-configuration")
    browser.submit("next")
    assert "/schedule" in browser.path
    checked(browser)
    assert not browser.find("field-cron").is_displayed()
    Select(browser.find("field-interval_code")).select_by_value("c")
    browser.wait(lambda: browser.find("field-cron").is_displayed(), "the cron box")
    browser.find("field-cron").send_keys("30 7 * * *")
    browser.wait(lambda: "30 7 * * *" in browser.find("schedule-preview").text, "the live preview")
    browser.screenshot("activate-schedule")
    browser.submit("next")
    assert "/summary" in browser.path
    checked(browser)
    browser.submit("activate")
    assert browser.has("activated")
    browser.screenshot("activate-summary")
    checked(browser)
    browser.find("launch-now").click()
    browser.wait(lambda: browser.path.endswith("/launch"), "the launch page")
    browser.submit("launch-submit")
    browser.wait(lambda: re.fullmatch(r"/jobs/\d+", browser.path), "the job's page")
    job_id = int(browser.path.rsplit("/", 1)[1])
    assert "PLANTED-" not in browser.source()
    (rt,) = run_templates_of(world, wizard_app)
    assert rt.active and rt.name == "wizard in a browser"
    with world.session() as session:
        job = jobs.get(session, job_id)
        assert job.run_template_id == rt.id and job.schedule_type == "adhoc-web"
    assert stored(world, rt.id)["WIZ_TOKEN"] == WIZARD_SECRET


def test_the_wizard_speaks_czech_with_the_applications_czech_names(world, wizard_app):
    with world.session() as session:
        app = session.get(models.Application, wizard_app)
        app.translations.append(
            models.ApplicationTranslation(lang="cs", name="Čaroděj", description="Pro průvodce")
        )
        session.commit()
    alice = signed_in(world, "alice")
    czech = {"Accept-Language": "cs-CZ,cs;q=0.9"}
    page = alice.get(f"/activate?company_id={world.ids['company_a']}", headers=czech)
    assert '<html lang="cs"' in page.text
    assert "Aktivace aplikace" in page.text and "Čaroděj" in page.text
    assert "Pro průvodce" in page.text
    english = alice.get(f"/activate?company_id={world.ids['company_a']}")
    assert "Čaroděj" not in english.text and "Wizard for the wizard" in english.text


def test_the_run_templates_list_offers_the_wizard_to_those_who_may_use_it(world):
    offer = 'data-testid="activate-application"'
    assert offer in signed_in(world, "amy").get("/run-templates").text  # manager of A
    assert offer in signed_in(world, "root").get("/run-templates").text
    bob = signed_in(world, "bob")  # viewer of B only: the wizard would refuse him
    assert offer not in bob.get("/run-templates").text
    assert offer not in bob.get(f"/run-templates?company={world.ids['company_b']}").text
    link = re.search(
        r'href="([^"]+)" data-testid="activate-application"',
        signed_in(world, "amy").get(f"/run-templates?company={world.ids['company_a']}").text,
    )
    assert link and link.group(1) == f"/activate?company_id={world.ids['company_a']}"
