"""The web UI's run template pages: list, page, configuration, credentials, schedule,
activation, clone, delete and launch; access by role; no secret in any page."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from helpers import PASSWORD, SECRETS, signed_in

from multiflexi.core import audit, jobenv, jobs, models, runtemplates

SYSTEM = audit.Actor.system("tests")
RICH_SECRET = "PLANTED-rich-token-3e9a"


def post(client, path: str, **data: str):
    return client.post(path, data={"csrf_token": client.token, **data})


@pytest.fixture
def rich(world) -> int:
    """A run template of company A whose application has a field of every type, requires
    a probe_api credential, and has a secret and a required field stored."""
    with world.session() as session:
        app = models.Application(
            name="Rich", executable="/usr/bin/env", version="2.1", requirements=["probe_api"]
        )
        for position, (name, ftype, extra) in enumerate(
            [
                ("LIMIT", "integer", {"required": True, "description": "how many rows"}),
                ("VERBOSE", "bool", {"default_value": "false"}),
                ("MODE", "set", {"options": ["fast", "thorough"]}),
                ("NOTIFY", "email", {"hint": "who hears about it"}),
                ("ENDPOINT", "url", {}),
                ("BODY", "text", {}),
                ("TITLE", "string", {"default_value": "daily report"}),
                ("TOKEN", "password", {"required": True}),
            ]
        ):
            app.fields.append(
                models.ApplicationField(name=name, type=ftype, position=position, **extra)
            )
        session.add(app)
        session.commit()
        rt = runtemplates.create(
            session,
            company=world.ids["company_a"],
            app_id=app.id,
            actor=SYSTEM,
            name="rich one",
            values={"LIMIT": "10", "TOKEN": RICH_SECRET},
        )
        return rt.id


def read(world, rt_id: int):
    session = world.session()
    return session, runtemplates.get(session, rt_id)


def stored(world, rt_id: int) -> dict[str, str]:
    session, rt = read(world, rt_id)
    with session:
        return {
            name: value for name, (value, _secret) in jobenv.configured_values(session, rt).items()
        }


# -- the list -------------------------------------------------------------------------------


def test_the_list_shows_each_run_template_with_its_schedule_and_last_runs(world):
    client = signed_in(world, "alice")
    page = client.get("/run-templates")
    assert page.status_code == 200
    html = page.data.decode()
    assert "probe alpha" in html and "probe beta" not in html
    assert 'data-testid="schedule">never (disabled)' in html
    row = html[html.index(f'data-rt-id="{world.ids["rt_a"]}"') :]
    # the finished job is a mark linking to its job page; the one due in 30 days is not a run
    assert f'href="/jobs/{world.ids["done_a"]}"' in row
    assert f'href="/jobs/{world.ids["job_a"]}"' not in row
    assert 'data-state="success"' in row


def test_the_list_shows_the_next_run_of_a_scheduled_run_template(world):
    with world.session() as session:
        runtemplates.update(session, world.ids["rt_a"], {"interval_code": "d"}, actor=SYSTEM)
    html = signed_in(world, "alice").get("/run-templates").data.decode()
    assert "every day at 00:00 (Europe/Prague)" in html
    next_cell = html[html.index('data-testid="next-run"') :][:200]
    assert "<time datetime=" in next_cell


def test_the_list_pages_on_the_server_and_filters_by_company(world):
    with world.session() as session:
        for number in range(55):
            runtemplates.create(
                session,
                company=world.ids["company_a"],
                app_id=world.ids["application"],
                actor=SYSTEM,
                name=f"extra {number:02d}",
                active=False,
            )
    client = signed_in(world, "root")
    first = client.get("/run-templates").data.decode()
    assert first.count('data-testid="rt-row"') == 50
    assert "1\u201350 of 57" in first
    second = client.get("/run-templates?offset=50").data.decode()
    assert second.count('data-testid="rt-row"') == 7
    only_b = client.get(f"/run-templates?company={world.ids['company_b']}").data.decode()
    assert only_b.count('data-testid="rt-row"') == 1 and "probe beta" in only_b


def test_a_company_not_theirs_is_not_found_even_as_a_filter(world):
    client = signed_in(world, "alice")
    assert client.get(f"/run-templates?company={world.ids['company_b']}").status_code == 404
    assert client.get(f"/run-templates/{world.ids['rt_b']}").status_code == 404
    assert client.get(f"/run-templates/{world.ids['rt_b']}/launch").status_code == 404
    assert client.get(f"/run-templates/{world.ids['rt_b']}/delete").status_code == 404
    assert client.get(f"/run-templates/{world.ids['rt_b']}/preview").status_code == 404


# -- the page and its configuration -----------------------------------------------------------


def test_the_page_has_a_widget_per_field_type_and_never_the_secret(world, rich):
    client = signed_in(world, "alice")
    page = client.get(f"/run-templates/{rich}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "Rich 2.1" in html and "Company alpha" in html
    assert re.search(
        r'<input id="f-values.LIMIT" name="values.LIMIT" type="number"[^>]*value="10"', html
    )
    assert re.search(r'name="values.VERBOSE" type="checkbox"', html)
    assert re.search(r'<select id="f-values.MODE"', html) and '<option value="thorough"' in html
    assert 'name="values.NOTIFY" type="email"' in html
    assert 'name="values.ENDPOINT" type="url"' in html
    assert '<textarea id="f-values.BODY"' in html
    assert 'placeholder="daily report"' in html  # the default
    assert "how many rows" in html and "who hears about it" in html
    assert re.search(r'name="values.TOKEN" type="password"[^>]*value=""', html)
    assert "stored — leave blank to keep" in html and 'name="clear.TOKEN"' in html
    assert "PLANTED-" not in html


def test_saving_the_configuration_changes_only_what_was_edited(world, rich):
    client = signed_in(world, "alice")
    saved = post(
        client,
        f"/run-templates/{rich}/configuration",
        **{
            "values.LIMIT": "25",
            "values.MODE": "fast",
            "values.TOKEN": "",
            "present.VERBOSE": "1",
            "values.VERBOSE": "on",
            "values.TITLE": "",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"/run-templates/{rich}#configuration")
    values = stored(world, rich)
    assert values["LIMIT"] == "25" and values["MODE"] == "fast" and values["VERBOSE"] == "true"
    assert values["TOKEN"] == RICH_SECRET  # blank kept the stored secret
    assert "TITLE" not in values  # blank left the default
    assert b"Configuration saved." in client.get(f"/run-templates/{rich}").data


def test_a_new_secret_replaces_the_stored_one_and_clear_removes_it(world, rich):
    client = signed_in(world, "alice")
    with world.session() as session:
        runtemplates.set_active(session, rich, False, actor=SYSTEM)
    post(client, f"/run-templates/{rich}/configuration", **{"values.TOKEN": "PLANTED-new-one"})
    assert stored(world, rich)["TOKEN"] == "PLANTED-new-one"
    assert "PLANTED-" not in client.get(f"/run-templates/{rich}").data.decode()
    post(client, f"/run-templates/{rich}/configuration", **{"clear.TOKEN": "on"})
    assert "TOKEN" not in stored(world, rich)


def test_a_value_of_the_wrong_type_is_shown_beside_its_field_and_nothing_is_saved(world, rich):
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(
        client,
        f"/run-templates/{rich}/configuration",
        **{"values.LIMIT": "ten", "values.NOTIFY": "nobody", "values.MODE": "fast"},
    )
    assert answer.status_code == 422
    html = unescape(answer.data.decode())
    assert re.search(r'data-testid="error-values.LIMIT">\'ten\' is not an integer<', html)
    assert re.search(
        r'data-testid="error-values.NOTIFY">\'nobody\' is not an e-mail address<', html
    )
    assert 'value="ten"' in html  # what was typed stays to be corrected
    assert world.dump() == before


def test_a_required_value_cannot_be_removed_from_an_active_scheduled_run_template(world, rich):
    with world.session() as session:
        runtemplates.update(session, rich, {"interval_code": "d"}, actor=SYSTEM)
    client = signed_in(world, "alice")
    answer = post(client, f"/run-templates/{rich}/configuration", **{"values.LIMIT": ""})
    assert answer.status_code == 422
    assert 'data-testid="error-values.LIMIT">required<' in answer.data.decode()
    assert stored(world, rich)["LIMIT"] == "10"


# -- credentials --------------------------------------------------------------------------------


def test_credentials_of_the_required_kind_are_offered_with_their_availability(world, rich):
    client = signed_in(world, "alice")
    credential = world.ids["credential_a"]
    html = client.get(f"/run-templates/{rich}").data.decode()
    assert "Requires <code>probe_api</code>" in html and "none bound" in html
    row = html[html.index(f'data-testid="credential-{credential}"') :]
    assert 'data-testid="availability"' in row[:600]
    assert re.search(r'data-testid="availability"[^>]*>(available|unknown)<', row)
    assert (
        post(
            client, f"/run-templates/{rich}/credentials", credential_id=str(credential), op="bind"
        ).status_code
        == 303
    )
    session, rt = read(world, rich)
    with session:
        assert [b.credential_id for b in rt.credential_bindings] == [credential]
    post(client, f"/run-templates/{rich}/credentials", credential_id=str(credential), op="unbind")
    session, rt = read(world, rich)
    with session:
        assert rt.credential_bindings == []
    # another company's credential is not found
    other = post(
        client, f"/run-templates/{rich}/credentials", credential_id=str(world.ids["credential_b"])
    )
    assert other.status_code == 404


# -- schedule and execution --------------------------------------------------------------------


def settings_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "probe alpha",
        "queue": "default",
        "note": "",
        "interval_code": "n",
        "delay": "0",
        "timezone": "",
        "cron": "",
        "executor": "native",
        "timeout": "",
        "max_concurrency": "1",
        "max_attempts": "1",
        "retry_backoff": "none",
        "retry_min_gap": "0",
        "deadline_offset": "",
    }
    form.update(changes)
    return form


def test_the_schedule_and_execution_are_saved_together(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    answer = post(
        client,
        f"/run-templates/{rt_id}/settings",
        **settings_form(
            interval_code="c",
            cron="*/15 8-17 * * 1-5",
            delay="30",
            timezone="Europe/London",
            executor="podman",
            timeout="600",
            max_concurrency="3",
            max_attempts="4",
            retry_backoff="exponential",
        ),
    )
    assert answer.status_code == 303
    session, rt = read(world, rt_id)
    with session:
        assert (rt.interval_code, rt.cron, rt.delay, rt.timezone) == (
            "c",
            "*/15 8-17 * * 1-5",
            30,
            "Europe/London",
        )
        assert (rt.executor, rt.timeout, rt.max_concurrency, rt.max_attempts, rt.retry_backoff) == (
            "podman",
            600,
            3,
            4,
            "exponential",
        )
    html = client.get(f"/run-templates/{rt_id}").data.decode()
    assert "cron */15 8-17 * * 1-5 (Europe/London)" in html
    assert html.count('data-testid="occurrence"') == 10


def test_a_bad_cron_is_shown_beside_the_field_and_nothing_changes(world):
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(
        client,
        f"/run-templates/{world.ids['rt_a']}/settings",
        **settings_form(interval_code="c", cron="61 * * * *", executor="native"),
    )
    assert answer.status_code == 422
    html = answer.data.decode()
    message = re.search(r'data-testid="error-cron">([^<]+)<', html)
    assert message and message.group(1).strip()
    assert 'value="61 * * * *"' in html
    assert world.dump() == before


def test_a_duplicate_name_is_shown_beside_the_name(world):
    with world.session() as session:
        runtemplates.create(
            session,
            company=world.ids["company_a"],
            app_id=world.ids["application"],
            actor=SYSTEM,
            name="taken",
        )
    client = signed_in(world, "alice")
    answer = post(
        client, f"/run-templates/{world.ids['rt_a']}/settings", **settings_form(name="taken")
    )
    assert answer.status_code == 409
    assert re.search(
        r'data-testid="error-name">[^<]*already exists', unescape(answer.data.decode())
    )


def test_the_preview_follows_the_schedule_being_edited(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    daily = client.get(
        f"/run-templates/{rt_id}/preview?interval_code=d&delay=3600&timezone=UTC",
        headers={"HX-Request": "true"},
    )
    html = daily.data.decode()
    times = re.findall(r'<time datetime="([^"]+)"', html)
    assert len(times) == 10 and all(t.endswith("T01:00:00+00:00") for t in times)
    assert "every day at 01:00 (UTC)" in html
    bad = client.get(f"/run-templates/{rt_id}/preview?interval_code=c&cron=nonsense").data.decode()
    assert 'data-testid="live-error-cron"' in bad and "<time" not in bad
    manual = client.get(f"/run-templates/{rt_id}/preview?interval_code=n").data.decode()
    assert 'data-testid="no-occurrences"' in manual


# -- activation, clone, delete -----------------------------------------------------------------


def test_activation_is_refused_naming_the_missing_values(world, rich):
    with world.session() as session:
        runtemplates.configure(
            session, rich, actor=SYSTEM, changes={"interval_code": "d"}, active=False
        )
        runtemplates.set_values(session, rich, {"LIMIT": None, "TOKEN": None}, actor=SYSTEM)
    client = signed_in(world, "alice")
    answer = post(client, f"/run-templates/{rich}/active", active="1")
    assert answer.status_code == 422
    assert re.search(r"required values are missing: LIMIT, TOKEN", answer.data.decode())
    session, rt = read(world, rich)
    with session:
        assert rt.active is False
    assert post(client, f"/run-templates/{rich}/active", active="0").status_code == 303


def test_deactivate_and_activate(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    assert post(client, f"/run-templates/{rt_id}/active", active="0").status_code == 303
    assert read(world, rt_id)[1].active is False
    assert post(client, f"/run-templates/{rt_id}/active", active="1").status_code == 303
    assert read(world, rt_id)[1].active is True


def test_a_clone_starts_inactive_with_the_same_configuration(world, rich):
    client = signed_in(world, "alice")
    answer = post(client, f"/run-templates/{rich}/clone", clone_name="")
    assert answer.status_code == 303
    clone_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    session, copy = read(world, clone_id)
    with session:
        assert copy.name == "rich one (copy)" and copy.active is False
    assert stored(world, clone_id) == stored(world, rich)
    taken = post(client, f"/run-templates/{rich}/clone", clone_name="rich one")
    assert taken.status_code == 409
    assert re.search(
        r'data-testid="error-clone_name">[^<]*already exists', unescape(taken.data.decode())
    )


def test_delete_asks_first_saying_what_goes_with_it(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    confirm = client.get(f"/run-templates/{rt_id}/delete")
    assert confirm.status_code == 200
    assert re.search(r'data-testid="delete-jobs"><strong>2 jobs</strong>', confirm.data.decode())
    gone = post(client, f"/run-templates/{rt_id}/delete")
    assert gone.status_code == 303
    with world.session() as session:
        assert session.get(models.RunTemplate, rt_id) is None
        assert session.get(models.Job, world.ids["job_a"]) is None
    assert client.get(f"/run-templates/{rt_id}").status_code == 404


# -- launch ------------------------------------------------------------------------------------


def test_launch_asks_for_required_values_with_nothing_stored(world, rich):
    with world.session() as session:
        runtemplates.set_values(session, rich, {"TOKEN": None, "LIMIT": None}, actor=SYSTEM)
    client = signed_in(world, "alice")
    form = client.get(f"/run-templates/{rich}/launch").data.decode()
    asked = form[
        form.index('data-testid="asked"') : form.index(
            "</fieldset>", form.index('data-testid="asked"')
        )
    ]
    assert 'name="overrides.LIMIT"' in asked and re.search(
        r'name="overrides.TOKEN" type="password"', asked
    )
    before = world.dump()
    refused = post(client, f"/run-templates/{rich}/launch", when="now", **{"overrides.LIMIT": "5"})
    assert refused.status_code == 422
    assert 'data-testid="error-overrides.TOKEN">required<' in refused.data.decode()
    assert world.dump() == before
    launched = post(
        client,
        f"/run-templates/{rich}/launch",
        when="now",
        **{"overrides.LIMIT": "5", "overrides.TOKEN": "PLANTED-launch-secret"},
    )
    assert launched.status_code == 303
    job_id = int(launched.headers["Location"].removeprefix("/jobs/"))
    with world.session() as session:
        job = jobs.get(session, job_id)
        assert job.schedule_type == "adhoc-web" and job.launched_by == "alice"
        # (the reader of a job's one-time values may move from jobs to jobenv)
        reader = jobenv.overrides_of
        values, secret = reader(session, job)
        assert values == {"LIMIT": "5", "TOKEN": "PLANTED-launch-secret"} and secret == {"TOKEN"}
        assert "PLANTED-launch-secret" not in (job.overrides or "")


def test_launch_at_a_time_reads_it_in_the_installations_zone(world):
    client = signed_in(world, "alice")
    answer = post(
        client, f"/run-templates/{world.ids['rt_a']}/launch", when="at", at="2031-07-01T09:30"
    )
    assert answer.status_code == 303
    job_id = int(answer.headers["Location"].removeprefix("/jobs/"))
    with world.session() as session:
        job = jobs.get(session, job_id)
        expected = dt.datetime(2031, 7, 1, 9, 30, tzinfo=ZoneInfo("Europe/Prague"))
        assert job.scheduled_at == expected and job.state == "scheduled"
    bad = post(client, f"/run-templates/{world.ids['rt_a']}/launch", when="at", at="soon")
    assert bad.status_code == 422 and 'data-testid="error-at"' in bad.data.decode()


def test_an_inactive_run_template_is_not_launched(world):
    with world.session() as session:
        runtemplates.set_active(session, world.ids["rt_a"], False, actor=SYSTEM)
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(client, f"/run-templates/{world.ids['rt_a']}/launch", when="now")
    assert answer.status_code == 409 and b"not active" in answer.data
    assert world.dump() == before


# -- roles and secrets -----------------------------------------------------------------------


def test_a_viewer_sees_no_edit_controls_and_every_post_is_refused(world):
    client = signed_in(world, "bob")
    rt_id = world.ids["rt_b"]
    html = client.get(f"/run-templates/{rt_id}").data.decode()
    assert "probe beta" in html
    for control in (
        "save-configuration",
        "save-settings",
        "launch",
        "activate",
        "deactivate",
        "delete",
        "clone-form",
        "bind-",
        "unbind-",
    ):
        assert f'data-testid="{control}' not in html, control
    assert "<form" not in html.replace('action="/logout"', "").split("<main", 1)[1]
    before = world.dump()
    for path, data in (
        ("configuration", {"values.REPORT_NAME": "x"}),
        ("settings", settings_form(name="changed")),
        ("credentials", {"credential_id": str(world.ids["credential_b"]), "op": "unbind"}),
        ("active", {"active": "0"}),
        ("clone", {"clone_name": ""}),
        ("delete", {}),
        ("launch", {"when": "now"}),
    ):
        assert post(client, f"/run-templates/{rt_id}/{path}", **data).status_code == 403, path
    assert client.get(f"/run-templates/{rt_id}/launch").status_code == 403
    assert world.dump() == before


def test_no_page_of_the_area_shows_a_secret(world, rich):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    paths = [
        "/run-templates",
        f"/run-templates/{rt_id}",
        f"/run-templates/{rt_id}/launch",
        f"/run-templates/{rt_id}/delete",
        f"/run-templates/{rt_id}/preview?interval_code=d",
        f"/run-templates/{rich}",
        f"/run-templates/{rich}/launch",
    ]
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, path
        assert b"PLANTED-" not in page.data, path
        assert not re.search(rb"<script(?![^>]*\bsrc=)", page.data), path
        assert not re.search(rb"\son[a-z]+=", page.data), path
        assert b" style=" not in page.data, path
    viewer = signed_in(world, "bob")
    for path in ("/run-templates", f"/run-templates/{world.ids['rt_b']}"):
        page = viewer.get(path)
        assert page.status_code == 200 and b"PLANTED-" not in page.data, path
    assert all(value.startswith("PLANTED-") for value in SECRETS.values() if value != PASSWORD)


# -- in a real browser ---------------------------------------------------------------------------


def clean(browser) -> None:
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []


def test_the_list_and_the_page_in_a_browser(browser, world, rich):
    browser.sign_in("alice", PASSWORD)
    browser.find("menu-runtemplates").click()
    browser.wait(lambda: browser.path == "/run-templates", "the list")
    assert len(browser.find_all('[data-testid="rt-row"]')) == 2
    mark = browser.find("outcome")
    assert mark.get_attribute("href").endswith(f"/jobs/{world.ids['done_a']}")
    assert "success" in mark.get_attribute("title")
    clean(browser)
    browser.screenshot("runtemplates-list")
    browser.open(f"/run-templates/{rich}")
    clean(browser)
    browser.screenshot("runtemplate-page")
    browser.driver.execute_script("document.getElementById('settings').scrollIntoView()")
    browser.screenshot("runtemplate-settings")
    browser.open(f"/run-templates/{rich}/launch")
    clean(browser)
    browser.screenshot("runtemplate-launch")
    browser.open(f"/run-templates/{rich}/delete")
    clean(browser)


def test_editing_a_value_in_a_browser_saves_it(browser, world):
    rt_id = world.ids["rt_a"]
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/run-templates/{rt_id}")
    browser.fill({"values.REPORT_NAME": "monthly"})
    browser.submit("save-configuration")
    browser.wait(lambda: "Configuration saved." in browser.find("flash").text, "the flash")
    assert browser.find("field-values.REPORT_NAME").get_attribute("value") == "monthly"
    assert stored(world, rt_id)["REPORT_NAME"] == "monthly"
    assert "PLANTED-" not in browser.source()
    clean(browser)


def test_typing_a_cron_changes_the_preview(browser, world):
    from selenium.webdriver.support.ui import Select

    browser.sign_in("alice", PASSWORD)
    browser.open(f"/run-templates/{world.ids['rt_a']}")
    assert not browser.find("field-cron").is_displayed()  # only for the custom interval
    Select(browser.find("field-interval_code")).select_by_value("c")
    browser.wait(lambda: browser.find("field-cron").is_displayed(), "the cron box")
    browser.find("cron-minute").send_keys("15")
    for part in ("hour", "dom", "month", "dow"):
        browser.find(f"cron-{part}").send_keys("*")
    assert browser.find("field-cron").get_attribute("value") == "15 * * * *"

    def occurrences() -> list[str]:
        return [
            t.get_attribute("datetime")
            for t in browser.find_all('[data-testid="schedule-preview"] time')
        ]

    browser.wait(
        lambda: len(occurrences()) == 10 and all(":15:00" in t for t in occurrences()),
        "ten occurrences at a quarter past",
    )
    assert "cron 15 * * * *" in browser.find("preview-description").text
    cron = browser.find("field-cron")
    cron.clear()
    cron.send_keys("99 * * * *")
    browser.wait(lambda: browser.has("live-error-cron"), "the cron's message beside it")
    assert browser.find("cron-minute").get_attribute("value") == "99"
    clean(browser)
    with world.session() as session:
        assert runtemplates.get(session, world.ids["rt_a"]).interval_code == "n"  # not saved


def test_launching_with_a_value_asked_for_lands_on_the_job_page(browser, world, rich):
    with world.session() as session:
        runtemplates.set_values(session, rich, {"TOKEN": None}, actor=SYSTEM)
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/run-templates/{rich}")
    browser.find("launch").click()
    browser.wait(lambda: browser.path == f"/run-templates/{rich}/launch", "the launch page")
    token = browser.find("field-overrides.TOKEN")
    assert token.get_attribute("type") == "password"
    clean(browser)
    token.send_keys("PLANTED-typed-at-launch")
    browser.submit("launch-submit")
    browser.wait(lambda: browser.path.startswith("/jobs/"), "the job's page")
    job_id = int(browser.path.removeprefix("/jobs/"))
    with world.session() as session:
        job = jobs.get(session, job_id)
        assert job.run_template_id == rich and job.state in ("queued", "running", "success")
    # (the jobs pages are another area's: until they exist the address answers 404)
    browser.console_errors()
