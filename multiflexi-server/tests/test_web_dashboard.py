"""The dashboard at /: counts of the last 24 hours with links to the filtered job list,
running jobs, latest failures, next runs, the hourly chart, health banners, the htmx
refresh, tenant isolation, and (in a real browser) how it looks and behaves."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import PASSWORD
from rq import Worker
from test_web_signin import sign_in

from multiflexi.core import models, scheduling
from multiflexi.server.app import create_app

HOUR = dt.timedelta(hours=1)


def add_job(world, company: str, state: str, due: dt.datetime, **extra) -> int:
    """A job of company ``a`` or ``b``'s run template, due at ``due``, now in ``state``."""
    with world.session() as session:
        job = models.Job(
            run_template_id=world.ids[f"rt_{company}"],
            company_id=world.ids[f"company_{company}"],
            application_id=world.ids["application"],
            state=state,
            scheduled_at=due,
            **extra,
        )
        session.add(job)
        session.commit()
        return job.id


@pytest.fixture
def recent(world):
    """Jobs of the last hours: company A 2 succeeded, 1 failed, 1 running; B 1 failed."""
    now = dt.datetime.now(dt.UTC)
    two_hours_ago = (now - 2 * HOUR).replace(minute=10, second=0, microsecond=0)
    return {
        "now": now,
        "hour": two_hours_ago.replace(minute=0),
        "ok_1": add_job(world, "a", "success", two_hours_ago, exit_code=0),
        "ok_2": add_job(world, "a", "success", two_hours_ago + dt.timedelta(minutes=5)),
        "failed_a": add_job(
            world, "a", "failed", now - 3 * HOUR, exit_code=3, finished_at=now - 3 * HOUR
        ),
        "running_a": add_job(
            world,
            "a",
            "running",
            now - 5 * dt.timedelta(minutes=1),
            started_at=now - 4 * dt.timedelta(minutes=1),
        ),
        "failed_b": add_job(world, "b", "failed", now - HOUR, exit_code=7),
    }


def page_of(world, login: str, path: str = "/", **kwargs):
    client = world.client()
    sign_in(client, login)
    return client.get(path, **kwargs)


def count(html: str, state: str) -> int:
    found = re.search(rf'data-testid="count-{state}-value">(\d+)<', html)
    assert found, f"a count tile for {state}"
    return int(found.group(1))


def href_of(html: str, testid: str) -> str:
    tag = re.search(rf'<a\s[^>]*data-testid="{testid}"[^>]*>', html)
    assert tag, testid
    return re.search(r'href="([^"]+)"', tag.group(0)).group(1).replace("&amp;", "&")


def query_of(link: str) -> dict[str, list[str]]:
    parts = urlsplit(link)
    assert parts.path == "/jobs"
    return parse_qs(parts.query)


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_counts_of_the_last_24_hours_are_what_the_user_may_see(world, recent):
    alice = page_of(world, "alice").data.decode()
    assert (count(alice, "success"), count(alice, "failed"), count(alice, "running")) == (2, 1, 1)
    root = page_of(world, "root").data.decode()
    assert (count(root, "success"), count(root, "failed"), count(root, "running")) == (2, 2, 1)
    nobody = page_of(world, "nobody").data.decode()
    assert (count(nobody, "success"), count(nobody, "failed"), count(nobody, "running")) == (
        0,
        0,
        0,
    )
    assert 'data-testid="failure"' not in nobody and 'data-testid="running-job"' not in nobody
    # company B's run template appears nowhere in alice's dashboard
    assert "probe beta" not in alice and "probe beta" in root


def test_each_count_opens_the_job_list_of_that_state_and_the_same_24_hours(world, recent):
    html = page_of(world, "alice").data.decode()
    failed = query_of(href_of(html, "count-failed"))
    assert failed["state"] == ["failed"]
    since, until = instant(failed["since"][0]), instant(failed["until"][0])
    assert until - since == dt.timedelta(hours=24)
    assert abs(until - recent["now"]) < dt.timedelta(minutes=1)
    every = query_of(href_of(html, "count-all"))
    assert "state" not in every and every["since"] == failed["since"]
    assert re.search(r'data-testid="count-all-value">4<', html)  # alice's 4 jobs


def test_running_jobs_show_since_when_and_link_to_their_pages(world, recent):
    html = page_of(world, "alice").data.decode()
    row = re.search(r'<tr[^>]*data-testid="running-job"[^>]*>.*?</tr>', html, re.S).group(0)
    assert f'data-job-id="{recent["running_a"]}"' in row
    assert f'href="/jobs/{recent["running_a"]}"' in row
    assert f'href="/run-templates/{world.ids["rt_a"]}"' in row
    started = re.search(r'<time datetime="([^"]+)" data-relative', row).group(1)
    assert abs(instant(started) - (recent["now"] - 4 * dt.timedelta(minutes=1))) < HOUR / 60


def test_a_failed_job_appears_under_latest_failures_with_its_links(world, recent):
    html = page_of(world, "alice").data.decode()
    rows = re.findall(r'<tr[^>]*data-testid="failure"[^>]*>.*?</tr>', html, re.S)
    assert len(rows) == 1  # company B's failure is not alice's
    row = rows[0]
    assert f'href="/jobs/{recent["failed_a"]}"' in row
    assert f'href="/run-templates/{world.ids["rt_a"]}"' in row
    assert "probe alpha" in row and "Company alpha" in row
    assert re.search(r'data-testid="failure-exit">3<', row)
    root = page_of(world, "root").data.decode()
    first = re.search(r'<tr[^>]*data-testid="failure"[^>]*data-job-id="(\d+)"', root).group(1)
    assert int(first) == recent["failed_b"]  # the newest failure first


def test_each_bar_of_the_chart_opens_the_jobs_of_its_hour(world, recent):
    html = page_of(world, "alice").data.decode()
    bars = re.findall(
        r'<a href="([^"]+)" class="bar" data-testid="chart-bar" data-hour="([^"]+)" '
        r'aria-label="([^"]+)">\s*<title>([^<]+)</title>',
        html,
    )
    by_hour = {
        instant(hour): (link.replace("&amp;", "&"), label, title)
        for link, hour, label, title in bars
    }
    link, label, title = by_hour[recent["hour"]]
    query = query_of(link)
    assert instant(query["since"][0]) == recent["hour"]
    assert instant(query["until"][0]) == recent["hour"] + HOUR
    assert "2 succeeded, 0 failed" in label and title == label
    assert len(by_hour) == 2  # the two hours with finished jobs (running ones are not drawn)


def test_next_runs_of_an_active_schedule_are_listed_with_a_countdown(world):
    for key in ("rt_a", "rt_b"):
        with world.session() as session:
            session.get(models.RunTemplate, world.ids[key]).interval_code = "h"
            session.commit()
    html = page_of(world, "alice").data.decode()
    row = re.search(r'<tr data-testid="upcoming-row".*?</tr>', html, re.S).group(0)
    assert f'data-run-template-id="{world.ids["rt_a"]}"' in row
    times = re.findall(r'data-testid="upcoming-time"><(?:strong><)?time datetime="([^"]+)"', row)
    assert len(times) == 5  # several runs of an hourly schedule, not only the next one
    starts = [instant(t) for t in times]
    assert all(later - earlier == HOUR for earlier, later in itertools.pairwise(starts))
    assert "data-relative" in row.split('data-testid="upcoming-time"')[1]  # the countdown
    assert "probe beta" not in html


def test_banners_say_when_the_scheduler_or_the_workers_are_not_alive(world, redis):
    html = page_of(world, "nobody").data.decode()
    assert 'data-testid="banner-scheduler"' in html
    assert 'data-testid="banner-workers"' in html
    assert 'data-testid="banner-redis"' not in html
    with world.session() as session:
        now = dt.datetime.now(dt.UTC)
        assert scheduling.acquire_lease(session, scheduling.LEASE_NAME, "probe:1", 60, now)
    worker = Worker(["default"], connection=redis, name="dashboard-probe")
    worker.register_birth()
    worker.heartbeat()
    try:
        html = page_of(world, "nobody").data.decode()
        assert 'data-testid="banner-scheduler"' not in html
        assert 'data-testid="banner-workers"' not in html
    finally:
        worker.register_death()
    with world.session() as session:
        scheduling.release_lease(session, scheduling.LEASE_NAME, "probe:1")
    assert 'data-testid="banner-scheduler"' in page_of(world, "nobody").data.decode()


def test_a_banner_says_when_redis_is_out_of_reach(world):
    settings = dataclasses.replace(world.settings, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    app.config["TESTING"] = True
    client = app.test_client()
    sign_in(client, "alice")
    answer = client.get("/")
    assert answer.status_code == 200
    html = answer.data.decode()
    assert 'data-testid="banner-redis"' in html and "REDIS_URL" in html
    assert 'data-testid="banner-workers"' not in html  # unknown, not "none"


def test_htmx_gets_the_summary_alone_with_the_banners_out_of_band(world, recent):
    answer = page_of(world, "alice", headers={"HX-Request": "true"})
    html = answer.data.decode()
    assert answer.status_code == 200 and "<html" not in html
    summary = re.search(r'<div id="dash-summary"[^>]*>', html).group(0)
    assert 'hx-trigger="every 15s, refresh"' in summary and 'hx-get="/"' in summary
    assert 'hx-swap="outerHTML"' in summary
    assert re.search(r'<div id="dash-health"[^>]*hx-swap-oob="true"', html)
    assert count(html, "failed") == 1
    full = page_of(world, "alice").data.decode()
    assert "hx-swap-oob" not in full


def test_no_secret_reaches_the_dashboard(world, recent):
    for login in ("root", "alice", "bob"):
        for headers in ({}, {"HX-Request": "true"}):
            html = page_of(world, login, headers=headers).data.decode()
            assert "PLANTED-" not in html, login


def test_the_dashboard_has_no_inline_script_style_or_handler(world, recent):
    html = page_of(world, "root").data.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert " style=" not in html
    # the only forms are sign-out and search: the dashboard changes nothing
    assert html.count('method="post"') == 1


# -- in a real browser ----------------------------------------------------------------------


def test_the_dashboard_in_a_browser(browser, world, recent):
    with world.session() as session:
        session.get(models.RunTemplate, world.ids["rt_a"]).interval_code = "h"
        session.commit()
    browser.sign_in("alice", PASSWORD)
    assert browser.path == "/"
    assert browser.find("count-failed-value").text == "1"
    # the running job's start reads as a time ago, kept up to date by app.js
    browser.wait(lambda: "ago" in browser.find("running-elapsed").text, "a relative time")
    assert browser.has("banner-scheduler")
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.screenshot("dashboard-data")
    browser.driver.execute_script("document.getElementById('h-upcoming').scrollIntoView()")
    browser.screenshot("dashboard-chart")
    # the summary refreshes in place (htmx), banners too, without reloading the page
    add_job(world, "a", "failed", dt.datetime.now(dt.UTC) - HOUR, exit_code=1)
    with world.session() as session:
        now = dt.datetime.now(dt.UTC)
        scheduling.acquire_lease(session, scheduling.LEASE_NAME, "probe:2", 60, now)
    browser.driver.execute_script("window.notReloaded = true")
    browser.driver.execute_script("htmx.trigger('#dash-summary', 'refresh')")
    browser.wait(lambda: browser.find("count-failed-value").text == "2", "the new count")
    browser.wait(lambda: not browser.has("banner-scheduler"), "the banner to go")
    assert browser.driver.execute_script("return window.notReloaded") is True
    assert browser.console_errors() == []
    # a bar opens its hour's jobs
    bar = browser.find_all('[data-testid="chart-bar"]')[0]
    assert "/jobs?since=" in bar.get_dom_attribute("href")


def test_the_dashboard_of_a_user_without_a_company_in_a_browser(browser):
    browser.sign_in("nobody", PASSWORD)
    assert browser.find("count-success-value").text == "0"
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
