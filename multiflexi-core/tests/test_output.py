"""Following a job's output: stored lines first, then new ones as the executor stores and
announces them on Redis, until the job ends (real Redis, real databases, a real second
thread as the executor)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import sqlalchemy as sa
from redis import Redis

from multiflexi.core import audit, companies, config, jobs, lifecycle, output, runtemplates
from multiflexi.core.errors import NotFound

ACTOR = audit.Actor("tester", source="test")
LEASE = dt.timedelta(seconds=60)
GUARD = 60


@pytest.fixture
def job(session, app, redis):
    company = companies.create(session, name="Acme", actor=ACTOR)
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example"},
    )
    launched = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    return launched.id


def running(session, job_id, *texts):
    """Claim the job as a worker would and store these stdout lines."""
    assert jobs.claim(session, job_id, worker="w1", lease=LEASE)
    lifecycle.store_output(session, job_id, 1, [("stdout", text) for text in texts])


def texts(events):
    return [event.text for event in events if isinstance(event, output.Line)]


def test_stored_lines_come_first_then_published_ones_until_the_job_ends(
    session, engine, settings, job, redis_url
):
    running(session, job, "one", "two")
    client = Redis.from_url(redis_url)
    channel = output.channel(job)
    seen_two, seen_four = threading.Event(), threading.Event()

    def executor():
        """Once the follower has sent the stored lines (and waits, most likely), store
        two more; once it has sent those, end the job; announce each on the channel."""
        pause = threading.Event()
        seen_two.wait(60)
        pause.wait(0.2)
        with config.session_factory(engine, settings)() as other:
            lifecycle.store_output(other, job, 3, [("stdout", "three"), ("stderr", "four")])
            client.publish(channel, "lines")
            seen_four.wait(60)
            pause.wait(0.2)
            jobs.finish(other, job, "failed", exit_code=3, exit_description="bad input")
            client.publish(channel, "end")

    writer = threading.Thread(target=executor)
    writer.start()
    events = []
    # the poll is far longer than the time given: lines that came in only at the end of
    # that time would end the follow with "timeout"; Redis's wake-up brings them at once
    for event in output.follow(session, job, redis=redis_url, poll=3600, timeout=GUARD):
        events.append(event)
        if texts(events) == ["one", "two"]:
            seen_two.set()
        if texts(events)[-1:] == ["four"]:
            seen_four.set()
    writer.join(60)
    client.close()
    assert texts(events) == ["one", "two", "three", "four"]
    assert [e.seq for e in events if isinstance(e, output.Line)] == [1, 2, 3, 4]
    assert [e.stream for e in events if isinstance(e, output.Line)][-1] == "stderr"
    end = events[-1]
    assert isinstance(end, output.End)
    assert (end.reason, end.state, end.next_after) == ("finished", "failed", 4)
    assert (end.exit_code, end.exit_description, end.finished) == (3, "bad input", True)


def test_following_resumes_after_the_given_line(session, job):
    running(session, job, "one", "two", "three")
    jobs.finish(session, job, "success", exit_code=0)
    events = list(output.follow(session, job, after=2))
    assert texts(events) == ["three"]
    assert (events[-1].reason, events[-1].next_after) == ("finished", 3)
    again = list(output.follow(session, job, after=3))
    assert again == [events[-1]]


def test_without_waiting_it_stops_once_the_stored_lines_are_sent(session, job):
    running(session, job, "one")
    events = list(output.follow(session, job, until_finished=False, redis="redis://127.0.0.1:1/0"))
    assert texts(events) == ["one"]
    assert (events[-1].reason, events[-1].state, events[-1].finished) == (
        "caught-up",
        "running",
        False,
    )


def test_a_job_that_does_not_end_in_time_says_where_to_resume(session, job):
    running(session, job, "one")
    events = list(output.follow(session, job, timeout=0.2, poll=0.05, keepalive=0.01))
    assert texts(events) == ["one"]
    assert any(isinstance(event, output.Quiet) for event in events)
    assert (events[-1].reason, events[-1].state, events[-1].next_after) == ("timeout", "running", 1)


def test_a_blocked_job_stops_the_follower_only_when_asked(session, job):
    stamp = jobs.now()
    assert jobs.transition(
        session, job, "blocked", expected={"queued"}, block_reason="expired", blocked_at=stamp
    )
    session.commit()
    held = list(output.follow(session, job, stop_when_blocked=True))
    assert (held[-1].reason, held[-1].state, held[-1].block_reason) == (
        "held",
        "blocked",
        "expired",
    )
    waited = list(output.follow(session, job, timeout=0.1, poll=0.05))
    assert waited[-1].reason == "timeout"


def test_an_unknown_job_is_not_found(session):
    with pytest.raises(NotFound):
        next(output.follow(session, 999_999))


def test_a_message_on_the_jobs_channel_wakes_the_wait_and_no_redis_means_sleeping(redis_url):
    wakeup = output.Wakeup(7, redis_url)
    Redis.from_url(redis_url).publish(output.OUTPUT_CHANNEL.format(job_id=7), "new lines")
    assert wakeup.wait(30) is True
    wakeup.close()
    without = output.Wakeup(7, "redis://127.0.0.1:1/0")
    assert without.wait(0.05) is False


def test_followers_hold_no_database_connection_between_looks(settings, session, job):
    """Twenty browsers on a job's page must not need twenty connections: a follower
    gives its connection back before it hands out a line or waits for the next."""
    running(session, job, "one")
    url = settings.database_url
    small = sa.create_engine(url, pool_size=1, max_overflow=0, pool_timeout=3)
    sessions = [config.session_factory(small, settings)() for _ in range(3)]
    followers = [output.follow(s, job, timeout=GUARD) for s in sessions]
    try:
        assert texts(next(f) for f in followers) == ["one", "one", "one"]
        with config.session_factory(small, settings)() as other:
            assert jobs.get(other, job).state == "running"  # the one connection is free
    finally:
        for follower in followers:
            follower.close()
        for s in sessions:
            s.close()
        small.dispose()


def test_lines_a_message_brings_are_sent_without_reading_the_database(
    settings, session, job, redis_url
):
    """Many pages following busy jobs: a batch announced with its lines costs the follower
    no query; a gap in the numbers, or the end of the job, sends it to the database.

    The messages go out before their lines are stored here (the executor stores first),
    so that each one reaches a follower that waits: the lines can only come from them."""
    running(session, job, "one")
    theirs = config.create_engine(settings.database_url)
    statements: list[str] = []
    sa.event.listen(theirs, "before_cursor_execute", lambda *args: statements.append(args[2]))
    client = Redis.from_url(redis_url)

    def announce(first: int, texts_: list[str], only: list[int] | None = None) -> None:
        numbered = [{"seq": first + i, "stream": "stdout", "text": t} for i, t in enumerate(texts_)]
        numbered = [line for line in numbered if only is None or line["seq"] in only]
        client.publish(output.channel(job), json.dumps({"job_id": job, "lines": numbered}))

    def store(first: int, texts_: list[str]) -> None:
        lifecycle.store_output(session, job, first, [("stdout", t) for t in texts_])

    with config.session_factory(theirs, settings)() as mine:
        follower = output.follow(mine, job, redis=redis_url, poll=3600, look=3600, timeout=GUARD)
        try:
            assert next(follower).text == "one"
            announce(2, ["two"])
            assert next(follower).text == "two"  # one more look first, which found nothing
            store(2, ["two"])
            statements.clear()
            announce(3, ["three"])
            assert next(follower).text == "three"
            announce(4, ["four", "five"])
            assert [next(follower).text for _ in range(2)] == ["four", "five"]
            assert statements == []
            store(3, ["three", "four", "five"])
            store(6, ["six", "seven"])
            announce(6, ["six", "seven"], only=[7])  # the message of line 6 was lost
            assert [next(follower).text for _ in range(2)] == ["six", "seven"]
            assert statements != []
            jobs.finish(session, job, "success", exit_code=0)
            client.publish(output.channel(job), json.dumps({"job_id": job, "end": True}))
            end = next(follower)
            assert isinstance(end, output.End)
            assert (end.reason, end.state, end.next_after) == ("finished", "success", 7)
        finally:
            follower.close()
            client.close()
    theirs.dispose()
