"""Jobs: filtered lists, output with an offset, the live stream, artifacts, cancel."""

from __future__ import annotations

import threading
import time

from multiflexi.core import models


def test_jobs_filter_by_state_company_run_template_and_time(world):
    ids = world.ids
    done = world.call("alice", "GET", "/api/v1/jobs?state=success").get_json()
    assert [j["id"] for j in done["items"]] == [ids["done_a"]]
    both = world.call("root", "GET", "/api/v1/jobs?state=success&state=scheduled").get_json()
    assert both["total"] == 4
    assert [j["id"] for j in both["items"]] == sorted(
        (j["id"] for j in both["items"]), reverse=True
    )
    by_rt = world.call("root", "GET", f"/api/v1/jobs?run_template_id={ids['rt_b']}").get_json()
    assert {j["run_template_id"] for j in by_rt["items"]} == {ids["rt_b"]}
    none = world.call("root", "GET", "/api/v1/jobs?until=2000-01-01T00:00:00Z").get_json()
    assert none["total"] == 0
    assert world.call("root", "GET", "/api/v1/jobs?state=sleeping").status_code == 422
    paged = world.call("root", "GET", "/api/v1/jobs?limit=1&offset=1").get_json()
    assert (paged["total"], len(paged["items"]), paged["offset"]) == (4, 1, 1)


def test_output_is_read_from_an_offset(world):
    path = f"/api/v1/jobs/{world.ids['done_a']}/output"
    first = world.call("amy", "GET", f"{path}?limit=2").get_json()
    assert [line["text"] for line in first["items"]] == ["first line", "second line"]
    assert first["finished"] is False
    rest = world.call("amy", "GET", f"{path}?after={first['next_after']}").get_json()
    assert [line["text"] for line in rest["items"]] == ["third line"]
    assert rest["finished"] is True and rest["next_after"] == 3


def _events(body: str) -> list[tuple[str, str]]:
    found = []
    for block in body.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if "event" in fields:
            found.append((fields["event"], fields.get("data", "")))
    return found


def test_the_stream_sends_lines_then_ends_with_the_job(world):
    path = f"/api/v1/jobs/{world.ids['done_a']}/output/stream"
    response = world.call("alice", "GET", path, headers={"Last-Event-ID": "1"})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = _events(response.get_data(as_text=True))
    assert [e for e, _ in events] == ["line", "line", "end"]
    assert '"second line"' in events[0][1]


def test_the_stream_follows_a_running_job_until_it_ends(world):
    job_id = world.ids["job_a"]

    def executor() -> None:
        time.sleep(0.8)
        with world.session() as session:
            job = session.get(models.Job, job_id)
            session.add(models.JobOutputLine(job_id=job_id, seq=1, stream="stdout", text="live!"))
            job.state = "success"
            session.commit()

    worker = threading.Thread(target=executor)
    worker.start()
    response = world.call("alice", "GET", f"/api/v1/jobs/{job_id}/output/stream?timeout=20")
    body = response.get_data(as_text=True)
    worker.join()
    events = _events(body)
    assert [e for e, _ in events] == ["line", "end"]
    assert "live!" in events[0][1] and "success" in events[1][1]


def test_artifacts_are_listed_and_downloaded(world):
    ids = world.ids
    listed = world.call("bob", "GET", f"/api/v1/jobs/{ids['done_b']}/artifacts").get_json()
    assert [(a["name"], a["size"]) for a in listed["items"]] == [("report.csv", 4)]
    download = world.call(
        "bob", "GET", f"/api/v1/jobs/{ids['done_b']}/artifacts/{ids['artifact_b']}"
    )
    assert download.status_code == 200 and download.data == b"a,b\n"
    assert "report.csv" in download.headers["Content-Disposition"]
    other_job = f"/api/v1/jobs/{ids['job_b']}/artifacts/{ids['artifact_b']}"
    assert world.call("bob", "GET", other_job).status_code == 404


def test_cancel_a_scheduled_job_but_not_a_finished_one(world):
    ids = world.ids
    cancelled = world.call("amy", "POST", f"/api/v1/jobs/{ids['job_a']}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    finished = world.call("amy", "POST", f"/api/v1/jobs/{ids['done_a']}/cancel")
    assert finished.status_code == 409
    assert (
        world.call("amy", "GET", f"/api/v1/jobs/{ids['done_a']}").get_json()["state"] == "success"
    )


def test_the_stream_still_works_without_redis(world, monkeypatch):
    from multiflexi.server.api import jobs as api_jobs

    def unreachable(url):
        import redis

        return redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)

    monkeypatch.setattr(api_jobs.queue, "connect", unreachable)
    path = f"/api/v1/jobs/{world.ids['job_a']}/output/stream?timeout=0.3"
    response = world.call("alice", "GET", path)
    assert [e for e, _ in _events(response.get_data(as_text=True))] == ["timeout"]


def test_a_message_on_the_jobs_channel_wakes_the_stream_and_no_redis_means_sleeping(world):
    import redis

    from multiflexi.server.api.jobs import OUTPUT_CHANNEL, Wakeup

    job_id = world.ids["job_a"]
    wakeup = Wakeup(job_id, world.settings.redis_url)
    redis.Redis.from_url(world.settings.redis_url).publish(
        OUTPUT_CHANNEL.format(job_id=job_id), "new lines"
    )
    assert wakeup.wait(30) is True
    wakeup.close()
    without = Wakeup(job_id, "redis://127.0.0.1:1/0")
    assert without.wait(0.05) is False
