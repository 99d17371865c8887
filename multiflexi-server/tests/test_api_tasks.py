"""SLA tasks over the API: filtered list, detail with jobs, summary, tenant isolation."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def add_tasks(world):
    """The world's tasks: company A's fulfilled (its job done attached), B's missed."""
    return {"a": world.ids["task_a"], "b": world.ids["task_b"]}


def test_tasks_are_listed_by_filter_and_only_for_visible_companies(world):
    ids = add_tasks(world)
    everything = world.call("root", "GET", "/api/v1/tasks").get_json()
    assert {t["id"] for t in everything["items"]} == {ids["a"], ids["b"]}
    mine = world.call("alice", "GET", "/api/v1/tasks").get_json()
    assert [t["id"] for t in mine["items"]] == [ids["a"]]
    missed = world.call("root", "GET", "/api/v1/tasks?state=missed").get_json()
    assert [t["id"] for t in missed["items"]] == [ids["b"]]
    by_company = world.call("root", "GET", f"/api/v1/tasks?company_id={world.ids['company_a']}")
    assert [t["id"] for t in by_company.get_json()["items"]] == [ids["a"]]
    by_rt = world.call("root", "GET", f"/api/v1/tasks?run_template_id={world.ids['rt_b']}")
    assert [t["id"] for t in by_rt.get_json()["items"]] == [ids["b"]]
    old = world.call("root", "GET", "/api/v1/tasks?until=2000-01-01T00:00:00Z").get_json()
    assert old["total"] == 0
    assert world.call("root", "GET", "/api/v1/tasks?state=sleeping").status_code == 422


def test_a_task_comes_with_its_jobs_and_another_companys_task_is_404(world):
    ids = add_tasks(world)
    detail = world.call("alice", "GET", f"/api/v1/tasks/{ids['a']}")
    assert detail.status_code == 200
    body = detail.get_json()
    assert body["state"] == "fulfilled"
    assert [j["id"] for j in body["jobs"]] == [world.ids["done_a"]]
    assert world.call("alice", "GET", f"/api/v1/tasks/{ids['b']}").status_code == 404
    assert world.call("nobody", "GET", f"/api/v1/tasks/{ids['a']}").status_code == 404
    assert world.call("root", "GET", "/api/v1/tasks/999999").status_code == 404


def test_the_summary_counts_states_and_gives_fourteen_days_of_fulfilment(world):
    add_tasks(world)
    root = world.call("root", "GET", "/api/v1/tasks/summary").get_json()
    assert root["counts"]["fulfilled"] == 1 and root["counts"]["missed"] == 1
    assert len(root["days"]) == 14
    today = root["days"][-1]
    assert (today["fulfilled"] + today["missed"]) in (0, 2)  # the window may start yesterday
    assert any(d["fulfilment"] == 0.5 for d in root["days"])
    alice = world.call("alice", "GET", "/api/v1/tasks/summary").get_json()
    assert alice["counts"] == {
        "open": 0,
        "fulfilled": 1,
        "fulfilled_late": 0,
        "failed": 0,
        "missed": 0,
    }
