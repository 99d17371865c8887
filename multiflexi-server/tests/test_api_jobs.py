"""Jobs: filtered lists, output with an offset, the live stream, artifacts, cancel."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator

from multiflexi.core import models
from multiflexi.core.models import Artifact
from multiflexi.server.api.jobs import limit_streams


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


@pytest.mark.parametrize("where", ["inline", "file"])
def test_an_artifact_name_with_a_line_break_or_a_quote_downloads_safely(world, tmp_path, where):
    name = 'q"uo\\te\r\nSet-Cookie: x=1 žluť.txt'
    stored = tmp_path / "stored.bin"
    stored.write_bytes(b"body")
    with world.session() as session:
        artifact = Artifact(
            job_id=world.ids["done_b"],
            name=name,
            content_type="text/plain",
            size=4,
            content=b"body" if where == "inline" else None,
            path=None if where == "inline" else str(stored),
        )
        session.add(artifact)
        session.commit()
        artifact_id = artifact.id
    download = world.call(
        "bob", "GET", f"/api/v1/jobs/{world.ids['done_b']}/artifacts/{artifact_id}"
    )
    assert download.status_code == 200 and download.data == b"body"
    header = download.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert "Set-Cookie" not in download.headers
    # the ASCII fallback in quotes, and the real name (control characters as _) in filename*
    assert header.startswith('attachment; filename="q_uo_te__Set-Cookie: x=1 _lu_.txt"; ')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == 'q"uo\\te__Set-Cookie: x=1 žluť.txt'


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
    from multiflexi.core import queue

    def unreachable(url):
        import redis

        return redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)

    monkeypatch.setattr(queue, "connect", unreachable)
    path = f"/api/v1/jobs/{world.ids['job_a']}/output/stream?timeout=0.3"
    response = world.call("alice", "GET", path)
    assert [e for e, _ in _events(response.get_data(as_text=True))] == ["timeout"]


def test_list_totals_are_the_real_number_of_jobs_for_every_caller_and_filter(world):
    """Totals come from the companies' job counters; they must equal a real count."""
    import sqlalchemy as sa

    from multiflexi.core import audit, companies, housekeeping, jobs, runtemplates

    ids = world.ids
    system = audit.Actor.system("tests")
    with world.session() as session:
        gamma = companies.create(session, name="Company gamma", slug="gamma", actor=system)
        rt_c = runtemplates.create(
            session, company=gamma.id, app_id=ids["application"], actor=system, name="probe c"
        )
        later = jobs.now() + dt.timedelta(days=30)
        for rt_id, number in ((ids["rt_a"], 5), (ids["rt_b"], 2), (rt_c.id, 3)):
            for _ in range(number):
                jobs.launch(session, rt_id, actor=system, at=later)
        housekeeping.delete_job(session, ids["done_b"], actor=system)
        real = dict(
            session.execute(
                sa.select(models.Job.company_id, sa.func.count()).group_by(models.Job.company_id)
            ).all()
        )
        scheduled = dict(
            session.execute(
                sa.select(models.Job.company_id, sa.func.count())
                .where(models.Job.state == "scheduled")
                .group_by(models.Job.company_id)
            ).all()
        )
    a, b, c = ids["company_a"], ids["company_b"], gamma.id
    assert real == {a: 7, b: 3, c: 3}

    def total(who: str, query: str = "") -> int:
        # two per page: the page alone cannot tell these totals
        response = world.call(who, "GET", f"/api/v1/jobs?limit=2&offset=1{query}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) == min(2, max(0, body["total"] - 1))
        return body["total"]

    assert total("root") == sum(real.values()) == 13
    assert total("root", f"&company_id={c}") == real[c]
    assert total("root", "&state=scheduled") == sum(scheduled.values())
    assert total("alice") == real[a]  # a tenant sees her company's jobs only
    assert total("alice", f"&company_id={a}") == real[a]
    assert total("alice", f"&company_id={b}") == 0
    assert total("bob") == real[b]
    assert total("bob", "&state=scheduled") == scheduled[b]
    assert total("bob", f"&run_template_id={ids['rt_b']}") == real[b]
    assert total("nobody") == 0


def test_the_stream_is_what_the_openapi_document_declares(world):
    doc = world.client().get("/api/v1/openapi.json").get_json()
    declared = doc["paths"]["/api/v1/jobs/{job_id}/output/stream"]["get"]["responses"]["200"]
    schema = declared["content"]["text/event-stream"]["schema"]
    assert set(schema["x-events"]) == {"line", "end", "timeout", "busy"}
    for job in ("done_a", "job_a"):  # ends with "end", and with "timeout"
        path = f"/api/v1/jobs/{world.ids[job]}/output/stream?timeout=0.2"
        text = world.call("alice", "GET", path).get_data(as_text=True)
        assert re.fullmatch(schema["pattern"], text), text
        for event, data in _events(text):
            ref = schema["x-events"][event]["$ref"].rsplit("/", 1)[-1]
            # the component with the document's components beside it, for its $refs
            component = {**doc["components"]["schemas"][ref], "components": doc["components"]}
            errors = list(Draft202012Validator(component).iter_errors(json.loads(data)))
            assert errors == [], (event, data)


def test_a_server_with_every_stream_slot_taken_answers_busy_and_the_api_still_answers(world):
    """A stream holds a thread of the server: past its slots a client gets the lines stored
    so far and "busy" (ask again later) instead of a thread that other requests need."""
    job_id = world.ids["job_a"]
    with world.session() as session:
        job = session.get(models.Job, job_id)
        job.state = "running"
        session.add(models.JobOutputLine(job_id=job_id, seq=1, stream="stdout", text="first"))
        session.commit()
    limit_streams(world.app, 1)
    path = f"/api/v1/jobs/{job_id}/output/stream?timeout=0.3"
    held = world.call("alice", "GET", path, buffered=False)  # open: it takes the one slot
    try:
        busy = world.call("alice", "GET", path).get_data(as_text=True)
        assert [e for e, _ in _events(busy)] == ["line", "busy"]
        assert "retry: 2000\nevent: busy" in busy and '"first"' in busy
        assert world.call("alice", "GET", "/api/v1/jobs?limit=50").status_code == 200
        finished = world.call("alice", "GET", f"/api/v1/jobs/{world.ids['done_a']}/output/stream")
        assert [e for e, _ in _events(finished.get_data(as_text=True))][-1] == "end"
    finally:
        held.close()  # the server is done with it: the slot is free again
    again = world.call("alice", "GET", path).get_data(as_text=True)
    assert [e for e, _ in _events(again)] == ["line", "timeout"]
