"""The web UI's jobs: the list with filters in the URL, a job's page, its actions and
downloads (test client), and the live output in a real browser."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from helpers import PASSWORD, csrf_of, signed_in

from multiflexi.core import audit, jobenv, jobs, lifecycle
from multiflexi.core.models import Job
from multiflexi.core.output import channel
from multiflexi.server.api.jobs import limit_streams

SYSTEM = audit.Actor.system("tests")


def _row_ids(page: bytes) -> list[int]:
    return [int(x) for x in re.findall(rb'data-testid="job-row" data-job-id="(\d+)"', page)]


@pytest.fixture
def many(world):
    """More jobs of company A: scheduler, API and CLI launches, a failure and a held job."""
    ids = dict(world.ids)
    now = dt.datetime.now(dt.UTC)
    with world.session() as session:
        rt = session.get(Job, ids["job_a"]).run_template
        plan = [
            (
                "cron",
                "daily",
                audit.Actor("scheduler", source="scheduler"),
                now - dt.timedelta(days=2),
            ),
            ("api", "adhoc-api", audit.Actor("amy", source="api"), now - dt.timedelta(hours=30)),
            ("cli", "adhoc-cli", audit.Actor("cli:ops", source="cli"), now - dt.timedelta(hours=3)),
        ]
        for key, schedule_type, actor, at in plan:
            job = jobs.create(
                session, rt, scheduled_at=at, schedule_type=schedule_type, actor=actor
            )
            session.commit()
            ids[key] = job.id
        failed = session.get(Job, ids["cron"])
        failed.state, failed.exit_code = "failed", 3
        held = session.get(Job, ids["cli"])
        held.state, held.block_reason = "blocked", "credential probe login alpha is unavailable"
        held.blocked_at = now
        session.commit()
    return ids


# -- the list -------------------------------------------------------------------------------


def test_the_list_shows_the_jobs_a_user_may_see_newest_first(world, many):
    alice = signed_in(world, "alice")
    page = alice.get("/jobs")
    assert page.status_code == 200
    ids = _row_ids(page.data)
    assert ids == sorted(ids, reverse=True)
    a_jobs = {many[k] for k in ("job_a", "done_a", "cron", "api", "cli")}
    assert set(ids) == a_jobs, "alice sees company A's jobs only"
    text = page.data.decode()
    assert "probe alpha" in text and "Company alpha" in text and "Probe" in text
    assert f'class="outcome-failed" data-testid="job-row" data-job-id="{many["cron"]}"' in text
    held = re.search(rf'data-job-id="{many["cli"]}".*?</tr>', text, re.S).group(
        0
    )  # a held job is marked and says why
    assert 'data-state="blocked"' in held and "credential probe login alpha is unavailable" in held


def test_each_filter_narrows_the_list_and_stays_in_the_links(world, many):
    root = signed_in(world, "root")
    cases = {
        "state=failed": [many["cron"]],
        "state=failed&state=blocked": [many["cli"], many["cron"]],
        f"company={many['company_b']}": [many["done_b"], many["job_b"]],
        f"application={many['application']}&company={many['company_a']}": None,
        f"run_template={many['rt_b']}": [many["done_b"], many["job_b"]],
        "launched_by=amy": [many["api"]],
        "trigger=scheduler": [many["cron"]],
        "trigger=cli": [many["cli"]],
    }
    for query, expected in cases.items():
        page = root.get(f"/jobs?{query}")
        assert page.status_code == 200, query
        if expected is not None:
            assert _row_ids(page.data) == expected, query
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=31)).isoformat(timespec="seconds")
    until = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="seconds")
    # a link (the dashboard's) may carry times with an offset
    window = root.get("/jobs", query_string={"since": since, "until": until})
    assert _row_ids(window.data) == [many["cli"], many["api"]]
    combined = root.get(
        "/jobs",
        query_string={
            "since": since,
            "until": until,
            "company": many["company_a"],
            "trigger": "api",
        },
    )
    assert _row_ids(combined.data) == [many["api"]]
    # the installation's zone (Europe/Prague) reads a datetime-local value
    prague = dt.datetime.now(ZoneInfo("Europe/Prague"))
    form = root.get(
        "/jobs",
        query_string={
            "since": (prague - dt.timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
            "until": (prague + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert _row_ids(form.data) == [many["cli"]]
    # the form shows the filters it applied
    kept = root.get("/jobs?state=failed&launched_by=scheduler").data.decode()
    assert 'value="failed" data-testid="filter-state-failed"\n             checked' in kept
    assert 'name="launched_by" type="text" value="scheduler"' in kept


def test_paging_keeps_the_filters(world, many):
    with world.session() as session:
        rt = session.get(Job, many["job_a"]).run_template
        for _ in range(60):
            jobs.create(
                session,
                rt,
                scheduled_at=dt.datetime.now(dt.UTC),
                schedule_type="hourly",
                actor=audit.Actor("scheduler"),
            )
        session.commit()
    root = signed_in(world, "root")
    first = root.get("/jobs?trigger=scheduler&state=scheduled")
    assert len(_row_ids(first.data)) == 50
    assert b'data-testid="job-count">60 jobs' in first.data
    link = re.search(rb'href="([^"]+)" rel="next"', first.data).group(1).decode()
    link = link.replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {
        "trigger": ["scheduler"],
        "state": ["scheduled"],
        "offset": ["50"],
    }
    second = root.get(link)
    assert len(_row_ids(second.data)) == 10
    assert not set(_row_ids(first.data)) & set(_row_ids(second.data))


def test_a_bad_filter_value_is_a_422_page_naming_the_field(world, many):
    alice = signed_in(world, "alice")
    for query, field in (
        ("state=sleeping", "state"),
        ("company=abc", "company"),
        (f"company={many['company_b']}", "company"),  # not alice's: unknown to her
        ("trigger=moon", "trigger"),
        ("since=yesterday", "since"),
        ("since=2026-05-02T10:00&until=2026-05-01T10:00", "until"),
        ("run_template=99999", "run_template"),
    ):
        page = alice.get(f"/jobs?{query}")
        assert page.status_code == 422, query
        assert f'data-testid="error-{field}"'.encode() in page.data, query
        assert b'data-testid="job-row"' not in page.data
    partial = alice.get("/jobs?trigger=moon", headers={"HX-Request": "true"})
    assert partial.status_code == 422 and b"<html" not in partial.data
    assert b'data-testid="filter-error-trigger"' in partial.data


def test_htmx_gets_the_table_only(world, many):
    alice = signed_in(world, "alice")
    partial = alice.get("/jobs?state=failed", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert b"<html" not in partial.data and b"job-filters" not in partial.data
    assert _row_ids(partial.data) == [many["cron"]]


# -- a job's page ---------------------------------------------------------------------------


def test_a_job_page_shows_what_it_belongs_to_times_meaning_and_artifacts(world, many):
    alice = signed_in(world, "alice")
    page = alice.get(f"/jobs/{many['done_a']}")
    assert page.status_code == 200
    text = page.data.decode()
    for testid, value in (
        ("job-run-template", "probe alpha"),
        ("job-application", "Probe"),
        ("job-company", "Company alpha"),
        ("job-launched-by", "tests"),
    ):
        assert re.search(rf'data-testid="{testid}">{value}<', text), testid
    assert 'data-testid="job-exit-meaning">done<' in text  # the manifest's meaning of 0
    assert "/usr/bin/env" in text and "API_PASSWORD" in text
    assert f'href="/jobs/{many["done_a"]}/artifacts/{many["artifact_a"]}"' in text
    assert f'href="/jobs/{many["job_a"]}" rel="prev"' in text
    assert f'data-stream="/api/v1/jobs/{many["done_a"]}/output/stream"' in text
    held = alice.get(f"/jobs/{many['cli']}").data.decode()
    assert "credential probe login alpha is unavailable" in held
    assert 'data-testid="job-block-reason"' in held


def test_follow_is_offered_only_while_the_job_may_still_write(world, many):
    alice = signed_in(world, "alice")
    for key in ("done_a", "cron"):  # success, failed
        page = alice.get(f"/jobs/{many[key]}").data.decode()
        assert 'data-testid="output-follow"' not in page, key
        assert 'data-testid="output-download"' in page
    with world.session() as session:
        job = session.get(Job, many["job_a"])
        job.state, job.started_at = "running", dt.datetime.now(dt.UTC)
        session.commit()
    assert 'data-testid="output-follow"' in alice.get(f"/jobs/{many['job_a']}").data.decode()
    ran = alice.get(f"/jobs/{many['done_a']}/ran")
    assert ran.status_code == 200 and "/usr/bin/env" in ran.data.decode()
    assert "PLANTED-" not in ran.data.decode()
    assert signed_in(world, "bob").get(f"/jobs/{many['done_a']}/ran").status_code == 404


def test_no_planted_secret_reaches_any_page_of_jobs(world, many):
    root = signed_in(world, "root")
    with world.session() as session:
        job = session.get(Job, many["job_a"])
        job.environment = {"API_PASSWORD": "***", "EXTRA": "***", "REPORT_NAME": "weekly"}
        session.commit()
    paths = ["/jobs", f"/jobs/{many['job_a']}", f"/jobs/{many['job_a']}/header"]
    paths += [f"/jobs/{many['done_a']}", f"/jobs/{many['done_a']}/output.txt"]
    for path in paths:
        answer = root.get(path)
        assert answer.status_code == 200, path
        assert b"PLANTED-" not in answer.data, path
    page = root.get(f"/jobs/{many['job_a']}").data.decode()
    assert re.search(r"<code>EXTRA</code> <span class=\"badge state-muted\">secret</span>", page)


def test_another_companys_job_its_output_and_artifact_are_not_found(world, many):
    alice = signed_in(world, "alice")
    b_done, b_artifact = many["done_b"], many["artifact_b"]
    for path in (
        f"/jobs/{b_done}",
        f"/jobs/{b_done}/header",
        f"/jobs/{b_done}/output.txt",
        f"/jobs/{b_done}/artifacts/{b_artifact}",
        f"/jobs/{many['done_a']}/artifacts/{b_artifact}",
        "/jobs/999999",
    ):
        answer = alice.get(path)
        assert answer.status_code == 404, path
        assert b'data-testid="error-page"' in answer.data
    token = csrf_of(alice.get("/jobs").data)
    refused = alice.post(f"/jobs/{many['job_b']}/cancel", data={"csrf_token": token})
    assert refused.status_code == 404


def test_downloads_give_the_artifact_and_the_whole_output(world, many):
    alice = signed_in(world, "alice")
    artifact = alice.get(f"/jobs/{many['done_a']}/artifacts/{many['artifact_a']}")
    assert artifact.status_code == 200 and artifact.data == b"a,b\n"
    assert "filename=report.csv" in artifact.headers["Content-Disposition"]
    with world.session() as session:
        lifecycle.store_output(session, many["done_a"], 4, [("stderr", "oops")])
    text = alice.get(f"/jobs/{many['done_a']}/output.txt")
    assert text.mimetype == "text/plain"
    assert text.data == b"first line\nsecond line\nthird line\n[stderr] oops\n"


def test_a_viewer_sees_no_actions_and_a_posted_cancel_is_refused(world, many):
    bob = signed_in(world, "bob")
    page = bob.get(f"/jobs/{many['job_b']}")
    assert page.status_code == 200
    assert b'data-testid="job-cancel"' not in page.data
    assert b'data-testid="job-relaunch"' not in page.data
    assert b'<form method="post" action="/jobs/' not in page.data
    before = world.dump()
    token = csrf_of(page.data)
    for action in ("cancel", "relaunch"):
        refused = bob.post(f"/jobs/{many['job_b']}/{action}", data={"csrf_token": token})
        assert refused.status_code == 403, action
    assert world.dump() == before
    brenda = signed_in(world, "brenda")
    assert b'data-testid="job-cancel"' in brenda.get(f"/jobs/{many['job_b']}").data


def test_cancel_and_run_again_from_the_page(world, many, redis):
    amy = signed_in(world, "amy")
    page = amy.get(f"/jobs/{many['job_a']}")
    token = csrf_of(page.data)
    assert amy.post(f"/jobs/{many['job_a']}/cancel").status_code == 400  # no token
    done = amy.post(f"/jobs/{many['job_a']}/cancel", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == f"/jobs/{many['job_a']}"
    after = amy.get(done.headers["Location"])
    assert b"cancelled." in after.data and b'data-testid="job-cancel"' not in after.data
    again = amy.post(f"/jobs/{many['job_a']}/cancel", data={"csrf_token": token})
    assert again.status_code == 422 and b"nothing to cancel" in again.data
    # run again: a new job with the cancelled job's one-time values, the secret one sealed
    relaunched = amy.post(f"/jobs/{many['job_a']}/relaunch", data={"csrf_token": token})
    assert relaunched.status_code == 303
    new_id = int(relaunched.headers["Location"].rsplit("/", 1)[1])
    assert new_id != many["job_a"]
    with world.session() as session:
        job = session.get(Job, new_id)
        assert (job.schedule_type, job.launched_by, job.state) == ("adhoc-web", "amy", "queued")
        values, secret = jobenv.overrides_of(session, job)
        assert values == {"EXTRA": "PLANTED-override-c4d8"} and secret == {"EXTRA"}
    shown = amy.get(f"/jobs/{new_id}")
    assert b"PLANTED-" not in shown.data and b"<code>EXTRA</code>" in shown.data


def test_a_long_output_is_capped_in_the_page_and_whole_in_the_download(world, many):
    lines = [("stdout", f"row {n}") for n in range(1, 2101)]
    with world.session() as session:
        lifecycle.store_output(session, many["api"], 1, lines)
    alice = signed_in(world, "alice")
    page = alice.get(f"/jobs/{many['api']}").data.decode()
    assert 'data-after="100" data-cap="2000"' in page  # the page asks for the last 2,000
    note = re.search(r'<p class="output-note"[^>]*>', page).group(0)
    assert "hidden" not in note and '<span id="output-dropped-count">100</span>' in page
    whole = alice.get(f"/jobs/{many['api']}/output.txt").data.decode().splitlines()
    assert len(whole) == 2100 and whole[0] == "row 1" and whole[-1] == "row 2100"


# -- in a real browser ----------------------------------------------------------------------


def _publish(world, redis, job_id: int, first: int, lines: list[tuple[str, str]]) -> int:
    """Store and announce lines the way the executor does (core store, Redis channel)."""
    with world.session() as session:
        following = lifecycle.store_output(session, job_id, first, lines)
    message = {
        "job_id": job_id,
        "lines": [
            {"seq": first + i, "stream": stream, "text": text}
            for i, (stream, text) in enumerate(lines)
        ],
    }
    redis.publish(channel(job_id), json.dumps(message))
    return following


def test_the_list_filters_in_place_in_a_browser(browser, world):
    browser.sign_in("alice", PASSWORD)
    browser.open("/jobs")
    assert len(browser.find_all('[data-testid="job-row"]')) == 2
    browser.find("filter-state-success").click()
    browser.wait(
        lambda: len(browser.find_all('[data-testid="job-row"]')) == 1, "the table swapped in place"
    )
    assert browser.path == "/jobs?state=success"
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.open("/jobs")
    browser.screenshot("jobs-list")


def test_live_output_appears_within_a_second_and_the_end_updates_the_header(browser, world, redis):
    job_id = world.ids["job_a"]
    with world.session() as session:
        job = session.get(Job, job_id)
        job.state, job.started_at = "running", dt.datetime.now(dt.UTC)
        job.environment = {"API_PASSWORD": "***", "EXTRA": "***", "REPORT_NAME": "weekly"}
        job.command = ["/usr/bin/env", "--report", "weekly"]
        session.commit()
    browser.sign_in("amy", PASSWORD)
    browser.open(f"/jobs/{job_id}")
    browser.wait(lambda: browser.find("output-status").text == "live", "the stream to open")
    seq = _publish(world, redis, job_id, 1, [("stdout", "starting import")])
    sent = time.monotonic()
    browser.wait(lambda: len(browser.find_all('[data-testid="output-line"]')) == 1, "line 1")
    assert time.monotonic() - sent < 1.0, "a line reaches the page within a second"
    seq = _publish(
        world,
        redis,
        job_id,
        seq,
        [("stderr", "warning: slow bank"), ("stdout", "\x1b[31mred alert\x1b[0m and plain")],
    )
    browser.wait(lambda: len(browser.find_all('[data-testid="output-line"]')) == 3, "3 lines")
    stderr = browser.find_all('[data-testid="output-line"][data-stream="stderr"]')
    assert len(stderr) == 1 and "stderr" in stderr[0].get_attribute("class").split()
    assert stderr[0].text.endswith("warning: slow bank")
    red = browser.find_all('[data-testid="output-line"] span.ansi-red-fg')
    assert [e.text for e in red] == ["red alert"]
    colour = browser.driver.execute_script("return getComputedStyle(arguments[0]).color", red[0])
    assert colour != browser.driver.execute_script(
        "return getComputedStyle(arguments[0]).color",
        browser.find_all('[data-testid="output-line"]')[0],
    )
    assert "\x1b" not in browser.find("job-output").text
    assert browser.find("output-count").text == "3 lines"
    # Follow off keeps the place; on again
    follow = browser.find("output-follow")
    follow.click()
    assert follow.get_attribute("aria-pressed") == "false"
    follow.click()
    assert follow.get_attribute("aria-pressed") == "true"
    assert "PLANTED-" not in browser.source()
    browser.screenshot("job-running")
    # the job ends: the header shows the final state and exit code without a reload
    with world.session() as session:
        lifecycle.conclude(session, job_id, exit_code=0)
    redis.publish(channel(job_id), json.dumps({"job_id": job_id, "end": True, "state": "success"}))
    browser.wait(
        lambda: browser.find("job-header").get_attribute("data-state") == "success",
        "the header to show the final state",
    )
    assert browser.find("job-exit-code").text.startswith("0")
    assert not browser.has("job-cancel")
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.screenshot("job-finished")


def test_cancel_a_queued_job_through_the_page(browser, world, redis):
    job_id = world.ids["job_a"]
    with world.session() as session:
        jobs.enqueue(session, session.get(Job, job_id), redis=redis)
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/jobs/{job_id}")
    assert browser.find("job-header").get_attribute("data-state") == "queued"
    browser.driver.execute_script("window.confirm = () => true")
    browser.find("job-cancel").click()
    browser.wait(lambda: browser.has("flash"), "the confirmation")
    assert "cancelled" in browser.find("flash").text
    assert browser.find("job-header").get_attribute("data-state") == "cancelled"
    with world.session() as session:
        assert session.scalar(sa.select(Job.state).where(Job.id == job_id)) == "cancelled"
    assert browser.console_errors() == []


def test_the_header_of_a_queued_job_follows_when_its_first_line_comes(browser, world, redis):
    """The page was rendered while the job waited in its queue; its first line says it runs."""
    job_id = world.ids["job_a"]
    with world.session() as session:
        jobs.enqueue(session, session.get(Job, job_id), redis=redis)
    browser.sign_in("amy", PASSWORD)
    browser.open(f"/jobs/{job_id}")
    assert browser.find("job-header").get_attribute("data-state") == "queued"
    browser.wait(lambda: browser.find("output-status").text == "live", "the stream to open")
    browser.driver.execute_script("window.notReloaded = true")
    with world.session() as session:
        job = session.get(Job, job_id)
        job.state, job.started_at = "running", dt.datetime.now(dt.UTC)
        session.commit()
    _publish(world, redis, job_id, 1, [("stdout", "started")])
    browser.wait(
        lambda: browser.find("job-header").get_attribute("data-state") == "running",
        "the header to show the job running",
    )
    assert browser.find("job-cancel").text == "Stop"
    assert browser.driver.execute_script("return window.notReloaded === true")
    assert browser.console_errors() == []


def test_a_queued_jobs_page_shows_its_command_once_it_starts(browser, world, redis):
    """Opened while the job waits: when it starts, the command and environment come without
    a reload (the worker's claim and process facts as the executor records them)."""
    job_id = world.ids["job_a"]
    with world.session() as session:
        jobs.enqueue(session, session.get(Job, job_id), redis=redis)
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/jobs/{job_id}")
    assert browser.find("job-header").get_attribute("data-state") == "queued"
    assert browser.find("job-command").text == "Not run yet."
    assert browser.find("job-environment").text == "Assembled when the job runs."
    assert browser.find("output-follow").is_displayed()
    browser.wait(lambda: browser.find("output-status").text == "live", "the stream to open")
    browser.driver.execute_script("window.notReloaded = true")
    with world.session() as session:
        started = lifecycle.start(
            session, job_id, worker="test-worker", lease=dt.timedelta(minutes=5), redis=redis
        )
        assert started == lifecycle.Start.RUNNING
        lifecycle.record_process(
            session,
            job_id,
            command=["/usr/bin/env", "--report", "weekly"],
            environment={"API_PASSWORD": "***", "REPORT_NAME": "weekly"},
        )
    _publish(world, redis, job_id, 1, [("stdout", "started")])
    browser.wait(
        lambda: browser.find("job-ran").get_attribute("data-state") == "running",
        "the command and environment to come",
    )
    assert browser.find("job-command").text == "/usr/bin/env --report weekly"
    assert "REPORT_NAME" in browser.find("job-environment").text
    assert browser.driver.execute_script("return window.notReloaded === true")
    assert "PLANTED-" not in browser.source()
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.screenshot("job-started-command", at="command-title")
    # it ends: nothing more to follow
    with world.session() as session:
        lifecycle.conclude(session, job_id, exit_code=0)
    redis.publish(channel(job_id), json.dumps({"job_id": job_id, "end": True, "state": "success"}))
    browser.wait(lambda: not browser.find("output-follow").is_displayed(), "Follow to go")
    assert browser.find("job-ran").get_attribute("data-state") == "success"
    assert browser.console_errors() == []


def test_a_page_answered_busy_asks_again_and_still_shows_the_lines(browser, world, redis):
    """Every stream slot of the server taken: the page shows what is stored, says the
    server is busy, and brings the next lines when it asks again."""
    job_id = world.ids["job_a"]
    with world.session() as session:
        job = session.get(Job, job_id)
        job.state, job.started_at = "running", dt.datetime.now(dt.UTC)
        session.commit()
    seq = _publish(world, redis, job_id, 1, [("stdout", "stored before")])
    limit_streams(world.app, 0)  # no slot at all: every stream is answered busy
    browser.sign_in("amy", PASSWORD)
    browser.open(f"/jobs/{job_id}")
    browser.wait(lambda: "busy" in browser.find("output-status").text, "the busy note")
    assert [e.text for e in browser.find_all('[data-testid="output-line"]')] == ["stored before"]
    _publish(world, redis, job_id, seq, [("stdout", "came later")])
    browser.wait(lambda: len(browser.find_all('[data-testid="output-line"]')) == 2, "the next line")
    assert browser.find_all('[data-testid="output-line"]')[-1].text == "came later"
    assert browser.console_errors() == []
