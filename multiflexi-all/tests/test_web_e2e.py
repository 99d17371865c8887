"""The web UI end to end, with every component real (issue 18, item 8).

A throwaway Redis server, a SQLite database migrated to head, the server's app served
over HTTP in threads of this process, and a ``multiflexi-executor worker`` PROCESS that
runs the jobs (as the job user when the tests run as root, as the stack would). The
objects are made through the REST API (the pages that make them are part 2 of the web
UI); everything else happens in headless Chromium: the first administrator, signing in,
the dashboard, the run template, a launch that asks for a required secret, the live
output of the job while it runs, its end, and the cancellation of a long job.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import multiflexi.database as database
from multiflexi.core import config
from multiflexi.core.testing import redis_server
from multiflexi.server import create_app
from multiflexi.server.testing import Browser, serve, wait_until

ADMIN, PASSWORD = "e2e-admin", "e2e password 9137"
MASTER_KEY = "e2e-master-key-0123456789-abcdefghijklmnop"
#: the one-time secret given at launch; it must never reach a page
SECRET = "e2e-one-time-token-Qx7Vw2"
#: the screenshots of the job page (ignored by git)
SCREENSHOTS = Path(__file__).parent / "screenshots"
#: variables of the developer's shell that must not reach the worker
FOREIGN = ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_MASTER_KEY", "MULTIFLEXI_", "DB_")

#: prints a line every half second (one coloured, one to stderr) and the token it was
#: given, which the worker must mask
PRINTER = """\
#!/bin/sh
echo "token: $E2E_TOKEN"
for n in 1 2 3 4 5 6; do
  echo "line $n at $(date +%s.%N)"
  sleep 0.5
done
printf '\\033[32mall green\\033[0m\\n'
echo "a warning on stderr" >&2
sleep 0.5
echo "done"
"""
#: becomes `sleep 60` under the pid it prints (so the test can see it stop)
SLEEPER = """\
#!/bin/sh
echo "sleeping as pid $$"
exec sleep 60
"""


def manifest(name: str, uuid: str, script: Path, **environment: Any) -> dict[str, Any]:
    return {
        "name": name,
        "uuid": uuid,
        "description": f"{name}: a script of the end-to-end test",
        "executable": "/bin/sh",
        "cmdparams": str(script),
        "version": "1.0.0",
        "environment": environment,
        "exitCodes": {"0": {"severity": "success", "description": "all printed"}},
    }


class Api:
    """The REST API over HTTP, as the administrator (Basic auth)."""

    def __init__(self, base: str) -> None:
        self.base = base + "/api/v1"
        token = base64.b64encode(f"{ADMIN}:{PASSWORD}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the loopback server of this test
            self.base + path, data=data, headers=self.headers, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}


def executor_command() -> list[str]:
    script = Path(sys.executable).with_name("multiflexi-executor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "multiflexi.executor"]


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait(condition: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    return wait_until(condition, what, timeout)


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder any user may pass through: a root worker runs its jobs as the job user,
    which must reach the scripts and the jobs' directories beside the data directory."""
    base = Path(tempfile.mkdtemp(prefix="mf-e2e-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def installation(place: Path) -> Iterator[dict[str, Any]]:
    """Redis, a migrated database, the app served over HTTP and a worker process."""
    with redis_server() as redis_url:
        data = place / "data"
        data.mkdir(mode=0o700)
        url = f"sqlite:///{data / 'multiflexi.sqlite'}"
        database.upgrade(url)
        env_file = data / "multiflexi.env"
        env_file.write_text(
            f"DATABASE_URL={url}\nREDIS_URL={redis_url}\nENCRYPTION_MASTER_KEY={MASTER_KEY}\n"
            f"MULTIFLEXI_DATA_DIR={data}\nMULTIFLEXI_TIMEZONE=UTC\n"
            # a lease of 3 s: the worker looks for cancellations every second
            "MULTIFLEXI_JOB_LEASE=3\nMULTIFLEXI_SECRET_KEY=e2e-session-key\n"
        )
        env_file.chmod(0o600)
        settings = config.load_settings(env_file=env_file, environ={})
        log = place / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [*executor_command(), "--env-file", str(env_file), "worker"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=clean_environ(),
            )
        try:
            with serve(create_app(settings)) as base:
                yield {"base": base, "settings": settings, "worker": worker, "log": log}
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


@pytest.fixture
def browser(installation: dict[str, Any]) -> Iterator[Browser]:
    browser = Browser(screenshots=SCREENSHOTS)
    browser.base = installation["base"]
    try:
        yield browser
    finally:
        browser.quit()


def job_state(api: Api, job_id: int) -> str:
    return str(api("GET", f"/jobs/{job_id}")["state"])


def test_launch_watch_and_cancel_jobs_in_a_browser_with_a_real_worker(installation, browser, place):
    worker = installation["worker"]
    printer, sleeper = place / "printer.sh", place / "sleeper.sh"
    printer.write_text(PRINTER)
    sleeper.write_text(SLEEPER)
    for script in (printer, sleeper):
        script.chmod(0o755)

    # a new installation offers to create its first administrator
    browser.open("/")
    browser.wait(lambda: browser.path.startswith("/login"), "the sign-in page")
    browser.find("create-admin").click()
    browser.wait(lambda: browser.has("setup-form"), "the first administrator's form")
    browser.fill({"login": ADMIN, "password": PASSWORD, "password_again": PASSWORD})
    browser.submit("setup-submit")
    browser.wait(lambda: browser.has("signed-in-as"), "the administrator signed in")
    browser.find("logout").click()
    browser.wait(lambda: browser.path.startswith("/login"), "the sign-in page")

    # what part 2's pages will make, made through the API
    api = Api(installation["base"])
    company = api("POST", "/companies", {"name": "End to End Ltd", "slug": "e2e"})
    token_field = {"type": "password", "description": "API token", "required": True}
    printing = api(
        "POST",
        "/applications",
        manifest(
            "E2E printer",
            "6f1c1a4e-0000-4000-8000-0000000e2e01",
            printer,
            E2E_TOKEN=token_field,
        ),
    )["application"]
    sleeping = api(
        "POST",
        "/applications",
        manifest("E2E sleeper", "6f1c1a4e-0000-4000-8000-0000000e2e02", sleeper),
    )["application"]
    printer_rt = api(
        "POST",
        "/run-templates",
        {"company_id": company["id"], "application_id": printing["id"], "name": "print lines"},
    )
    sleeper_rt = api(
        "POST",
        "/run-templates",
        {"company_id": company["id"], "application_id": sleeping["id"], "name": "sleep long"},
    )
    assert printer_rt["values"].get("E2E_TOKEN") in (None, "")  # nothing stored: asked at launch

    # sign in, the dashboard, the run template through the menu
    browser.sign_in(ADMIN, PASSWORD)
    assert browser.path == "/"
    assert browser.has("dashboard-summary")
    browser.find("menu-runtemplates").click()
    browser.wait(lambda: browser.has("rt-list"), "the run template list")
    link = next(
        row.find_element("css selector", '[data-testid="rt-link"]')
        for row in browser.find_all('[data-testid="rt-row"]')
        if row.get_attribute("data-rt-id") == str(printer_rt["id"])
    )
    link.click()
    browser.wait(lambda: browser.path == f"/run-templates/{printer_rt['id']}", "its page")
    assert "E2E_TOKEN" in browser.find("missing").text

    # launch: the required secret is asked for right there, masked
    browser.find("launch").click()
    browser.wait(lambda: browser.has("launch-form"), "the launch form")
    asked = browser.find("field-overrides.E2E_TOKEN")
    assert asked.get_attribute("type") == "password"
    browser.fill({"overrides.E2E_TOKEN": SECRET})
    browser.submit("launch-submit")
    browser.wait(lambda: browser.path.startswith("/jobs/"), "the job's page")
    job_id = int(browser.path.split("/")[2])
    assert "launched" in browser.find("flash").text
    # when each line reaches the page (the browser's clock is this machine's clock)
    browser.driver.execute_script(
        "window.e2eArrivals = {}; window.e2eNoReload = true; window.e2eSince = Date.now() / 1000;"
        "const seen = () => { for (const row of document.querySelectorAll("
        "'[data-testid=\"output-line\"]')) { const seq = row.dataset.seq;"
        " if (!(seq in window.e2eArrivals)) window.e2eArrivals[seq] = Date.now() / 1000; } };"
        "seen(); new MutationObserver(seen).observe(document.getElementById('job-output'),"
        " {childList: true});"
    )

    # the lines appear while the job runs
    browser.wait(
        lambda: browser.find_all('[data-testid="output-line"]'), "the first line", timeout=60
    )
    assert job_state(api, job_id) == "running", "the first line is shown before the job ends"
    browser.wait(  # the page showed it queued: its header follows without a reload
        lambda: browser.find("job-header").get_attribute("data-state") == "running",
        "the header to show the job running",
    )
    browser.wait(lambda: "line 3 at" in browser.find("job-output").text, "line 3")
    assert job_state(api, job_id) == "running"
    browser.screenshot("e2e-job-running")

    # it succeeds: the header says so without a reload
    browser.wait(
        lambda: browser.find("job-header").get_attribute("data-state") == "success",
        "the header to show success",
        timeout=60,
    )
    assert browser.driver.execute_script("return window.e2eNoReload === true")
    assert browser.find("job-exit-code").text.split()[0] == "0"
    assert "all printed" in browser.find("job-exit-meaning").text
    assert not browser.has("job-cancel")
    rows = browser.find_all('[data-testid="output-line"]')
    texts = [row.text for row in rows]
    assert texts[0] == "token: ***", texts
    assert [t.split(" at ")[0] for t in texts[1:7]] == [f"line {n}" for n in range(1, 7)]
    assert texts[7:] == ["all green", "a warning on stderr", "done"]
    green = browser.find_all('[data-testid="output-line"] span.ansi-green-fg')
    assert [e.text for e in green] == ["all green"]
    assert rows[8].get_attribute("data-stream") == "stderr"
    assert "\x1b" not in browser.find("job-output").text
    assert SECRET not in browser.source()
    assert browser.console_errors() == []
    delays = _delays(browser, texts)
    print(f"delay from print to page, lines 1-6 (s): {delays}")  # for the report, not asserted
    browser.screenshot("e2e-job-finished")
    assert api("GET", f"/jobs/{job_id}")["exit_code"] == 0

    # a long job, stopped from its page: it ends cancelled and its process is gone
    browser.open(f"/run-templates/{sleeper_rt['id']}/launch")
    browser.submit("launch-submit")
    browser.wait(lambda: browser.path.startswith("/jobs/"), "the long job's page")
    long_id = int(browser.path.split("/")[2])
    line = browser.wait(
        lambda: next(
            row.text
            for row in browser.find_all('[data-testid="output-line"]')
            if row.text.startswith("sleeping as pid ")
        ),
        "the long job to start",
        timeout=60,
    )
    pid = int(line.rsplit(" ", 1)[1])
    assert alive(pid)
    browser.wait(
        lambda: browser.find("job-header").get_attribute("data-state") == "running",
        "the header to show the long job running",
    )
    browser.driver.execute_script("window.confirm = () => true")
    browser.find("job-cancel").click()
    browser.wait(
        lambda: browser.find("job-header").get_attribute("data-state") == "cancelled",
        "the header to show the job cancelled",
        timeout=60,
    )
    assert job_state(api, long_id) == "cancelled"
    wait(lambda: not alive(pid), "the worker to stop the job's process")
    assert worker.poll() is None, installation["log"].read_text(errors="replace")
    assert SECRET not in browser.source()
    for path in ("/", "/jobs", f"/jobs/{job_id}", f"/run-templates/{printer_rt['id']}"):
        browser.open(path)
        assert SECRET not in browser.source(), path
    assert browser.console_errors() == []
    assert SECRET not in installation["log"].read_text(errors="replace")


def _delays(browser: Browser, texts: list[str]) -> list[float]:
    """Seconds between a numbered line's printing and its arrival in the page, for the
    lines printed after the page was watching (earlier ones came with the page)."""
    arrivals = browser.driver.execute_script("return window.e2eArrivals")
    since = browser.driver.execute_script("return window.e2eSince")
    rows = browser.find_all('[data-testid="output-line"]')
    delays = []
    for row, text in zip(rows, texts, strict=True):
        if not text.startswith("line "):
            continue
        printed = float(text.rsplit(" ", 1)[1])
        arrived = arrivals.get(row.get_attribute("data-seq"))
        if arrived is not None and printed >= since:
            delays.append(round(arrived - printed, 3))
    return delays
