"""``task list`` and ``task get``: SLA tasks with filters, in every output format."""

from __future__ import annotations

import datetime as dt

import yaml

from multiflexi.core import jobs
from multiflexi.core.models import RunTemplate, Task

UTC = dt.UTC


def add_task(session, rt_id, state, start, actor):
    task = Task(
        run_template_id=rt_id,
        window_start=start,
        window_end=start + dt.timedelta(days=1),
        deadline=start + dt.timedelta(hours=6),
        state=state,
        attempts=0 if state in ("open", "missed") else 1,
        created_at=start,
    )
    session.add(task)
    session.commit()
    return task.id


def test_tasks_are_listed_by_state_run_template_and_window(cli, session, sleep_rt, actor):
    start = dt.datetime(2025, 6, 1, 22, 0, tzinfo=UTC)
    missed = add_task(session, sleep_rt["rt_id"], "missed", start, actor)
    done = add_task(session, sleep_rt["rt_id"], "fulfilled", start + dt.timedelta(days=1), actor)
    listed = cli.json("task", "list")
    assert [t["id"] for t in listed] == [done, missed]  # latest window first
    assert [t["id"] for t in cli.json("task", "list", "--state", "missed")] == [missed]
    later = cli.json("task", "list", "--since", "2025-06-02T12:00Z")
    assert [t["id"] for t in later] == [done]
    by_company = cli.json("task", "list", "--company-id", str(sleep_rt["company_id"]))
    assert len(by_company) == 2
    other = cli.json("task", "list", "--runtemplate-id", str(sleep_rt["rt_id"] + 100))
    assert other == []
    table = cli("task", "list")
    assert table.exit_code == 0 and "fulfilled" in table.stdout and "missed" in table.stdout
    bad = cli("task", "list", "--state", "sleeping")
    assert bad.exit_code == 2 and "sleeping" in bad.stderr


def test_a_task_is_shown_with_its_jobs(cli, session, sleep_rt, actor):
    start = dt.datetime(2025, 6, 1, 22, 0, tzinfo=UTC)
    task_id = add_task(session, sleep_rt["rt_id"], "open", start, actor)
    rt = session.get(RunTemplate, sleep_rt["rt_id"])
    job = jobs.create(
        session, rt, scheduled_at=start, schedule_type="daily", actor=actor, task_id=task_id
    )
    session.commit()
    shown = yaml.safe_load(cli("--format", "yaml", "task", "get", "--id", str(task_id)).stdout)
    assert shown["state"] == "open" and [j["id"] for j in shown["jobs"]] == [job.id]
    missing = cli("task", "get", "--id", "999999")
    assert missing.exit_code != 0 and "task 999999 not found" in missing.stderr
    assert "Traceback" not in missing.stderr
