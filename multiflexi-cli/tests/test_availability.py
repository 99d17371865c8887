"""The credential availability gate from the command line.

``credential check`` asks the core now; ``run-template schedule --wait`` and ``job
tail -f`` exit 75 when the gate holds the job; ``job get``/``job list`` say why and
when. The check plug-in for the prototype ``Probe`` is a real installed distribution
on ``sys.path``: it answers the state named by the first label of PROBE_ENDPOINT and
quotes the credential's secret key, which no output may show. The executor's part
(the gate in ``lifecycle.begin``) is played in a thread, as the other job tests do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time

import pytest

from multiflexi.core import config, lifecycle, models
from multiflexi.core.testing import credential_check_plugin

SECRET = "probe-KEY-S3cret-90ab"
PLUGIN_MODULE = "mf_cli_gate_check"
PLUGIN_SOURCE = """
from urllib.parse import urlsplit

from multiflexi.core.availability import Availability


def check(request):
    state = urlsplit(request.values["PROBE_ENDPOINT"]).hostname.split(".")[0]
    key = request.values["PROBE_API_KEY"]
    return Availability(state, f"the probe rejected key {key}", ttl=300)
"""


@pytest.fixture
def plugin(tmp_path):
    with credential_check_plugin(
        tmp_path / "plugins",
        "mf-cli-gate",
        module=PLUGIN_MODULE,
        source=PLUGIN_SOURCE,
        prototype="Probe",
    ):
        yield


@pytest.fixture
def bound(live_cli, sleep_rt, fixtures, plugin):
    """A 'Probe' credential bound to the run template; its endpoint names the answer."""

    def bind(state: str) -> int:
        company = str(sleep_rt["company_id"])
        live_cli.json("credential-prototype", "import-json", "--file", str(fixtures["prototype"]))
        ctype = live_cli.json(
            "credential-type", "create", "--company-id", company, "--name", "p", "--prototype",
            "Probe",
        )["credential_type_id"]  # fmt: skip
        credential = live_cli.json(
            "credential", "create", "--company-id", company, "--credential-type-id", str(ctype),
            "--name", "main", "--field", f"PROBE_API_KEY={SECRET}",
            "--field", f"PROBE_ENDPOINT=https://{state}.probe.example/api",
        )["credential_id"]  # fmt: skip
        live_cli.json(
            "run-template", "assign-credential", "--id", str(sleep_rt["rt_id"]),
            "--credential-id", str(credential),
        )  # fmt: skip
        return credential

    return bind


def play_gate(env, rt_id):
    """Deliver the run template's next job to the gate, as a worker would (in a thread)."""
    result: dict[str, object] = {}

    def work():
        settings = config.load_settings(environ=env, env_file=os.devnull)
        engine = config.create_engine(settings.database_url)
        with config.session_factory(engine, settings)() as session:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                session.rollback()
                job = (
                    session.query(models.Job)
                    .filter_by(run_template_id=rt_id, state="queued")
                    .one_or_none()
                )
                if job is not None:
                    started, _ = lifecycle.begin(
                        session, job.id, worker="test-executor", lease=dt.timedelta(seconds=60)
                    )
                    result["start"] = started
                    break
                time.sleep(0.05)
        engine.dispose()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, result


def test_credential_check_answers_the_state_never_the_value(live_cli, bound, session):
    credential = bound("degraded")
    result = live_cli("--format", "json", "credential", "check", "--id", str(credential))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["credential_id"], data["state"], data["satisfied"]) == (
        credential,
        "degraded",
        False,
    )
    assert data["message"] == "the probe rejected key ***"
    assert dt.datetime.fromisoformat(data["checked_at"]).tzinfo is not None
    assert SECRET not in result.stdout + result.stderr
    table = live_cli("credential", "check", "--id", str(credential))
    assert table.exit_code == 0 and "degraded" in table.stdout
    assert SECRET not in table.stdout + table.stderr
    audited = live_cli.json("audit", "list", "--limit", "100")
    assert [e["action"] for e in audited if e["entity_type"] == "credential"].count("check") == 2
    missing = live_cli("credential", "check", "--id", "999")
    assert missing.exit_code == 3 and "credential 999 not found" in missing.stderr


def test_schedule_wait_exits_75_with_the_reason_when_the_gate_holds_the_job(
    live_cli, live_env, bound, sleep_rt
):
    bound("unavailable")
    worker, played = play_gate(live_env, sleep_rt["rt_id"])
    result = live_cli(
        "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "30"
    )
    worker.join(10)
    assert played["start"] is lifecycle.Start.BLOCKED
    assert result.exit_code == 75, result.stderr
    reason = "credential 'main' (Probe): unavailable: the probe rejected key ***"
    assert f"blocked: {reason} (it is tried again later)" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    (job,) = live_cli.json("job", "list")
    assert (job["state"], job["block_reason"]) == ("scheduled", reason)
    assert dt.datetime.fromisoformat(job["blocked_at"]) + dt.timedelta(
        seconds=300
    ) == dt.datetime.fromisoformat(job["scheduled_at"])
    detail = live_cli.json("job", "get", "--id", str(job["id"]))
    assert detail["block_reason"] == reason and detail["blocked_at"] == job["blocked_at"]
    assert [(line["stream"], line["text"][:9]) for line in detail["output"]] == [
        ("system", "blocked: ")
    ]
    assert SECRET not in json.dumps(detail)


def test_schedule_wait_in_json_and_tail_follow_say_blocked_with_75(
    live_cli, live_env, bound, sleep_rt
):
    bound("misconfigured")
    worker, _ = play_gate(live_env, sleep_rt["rt_id"])
    result = live_cli(
        "--format", "json", "run-template", "schedule", "--id", str(sleep_rt["rt_id"]),
        "--wait", "--timeout", "30",
    )  # fmt: skip
    worker.join(10)
    assert result.exit_code == 75, result.stderr
    data = json.loads(result.stdout)
    assert (data["state"], data["exitcode"]) == ("blocked", None)
    assert data["block_reason"].endswith("misconfigured: the probe rejected key ***")
    error = json.loads(result.stderr.splitlines()[-1])
    assert (error["kind"], error["exit_code"]) == ("blocked", 75)
    assert error["message"].endswith("(it will not run as it is)")
    tail = live_cli("job", "tail", "--id", str(data["job_id"]), "-f", "--timeout", "10")
    assert tail.exit_code == 75
    assert SECRET not in result.stdout + result.stderr + tail.stdout + tail.stderr
