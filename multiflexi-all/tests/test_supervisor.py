"""The stack's supervisor on its own, with real short-lived processes."""

from __future__ import annotations

import os
import signal
import sys
import time

from multiflexi.all.stack import Component, Supervisor


def watch_until(supervisor: Supervisor, said: list[str], lines: int, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while len(said) < lines and time.monotonic() < deadline:
        supervisor.sleep(0.1)
    assert len(said) >= lines, said


def test_a_program_that_keeps_exiting_is_restarted_with_a_growing_pause(tmp_path):
    said: list[str] = []
    supervisor = Supervisor(said.append)
    log = tmp_path / "failing.log"
    failing = Component(
        "failing", [sys.executable, "-c", "print('up'); raise SystemExit(3)"], log=log, hint=log
    )
    with supervisor.installed():
        supervisor.start(failing)
        watch_until(supervisor, said, 3)
        supervisor.stop(grace=5)
    assert said[:3] == [
        f"failing exited with code 3; starting it again in {pause} s (see {log})"
        for pause in (1, 2, 4)
    ]
    assert log.read_text().count("up") == 3  # started three times, output kept


def test_a_program_that_went_away_is_tried_again_later(tmp_path):
    program = tmp_path / "sleeper"
    program.write_text("#!/bin/sh\nexec sleep 600\n")
    program.chmod(0o755)
    said: list[str] = []
    supervisor = Supervisor(said.append)
    sleeper = Component("sleeper", [str(program)])
    with supervisor.installed():
        supervisor.start(sleeper)
        assert sleeper.process is not None
        program.unlink()
        os.kill(sleeper.process.pid, signal.SIGKILL)
        watch_until(supervisor, said, 2)
        supervisor.stop(grace=5)
    assert said[0] == "sleeper was killed by SIGKILL; starting it again in 1 s"
    assert said[1].startswith("sleeper could not start (")
    assert said[1].endswith("trying again in 2 s")


def test_a_stop_request_stops_everything_and_starts_nothing_more(tmp_path):
    said: list[str] = []
    supervisor = Supervisor(said.append)
    sleepers = [Component(f"sleeper-{n}", ["sleep", "600"]) for n in (1, 2)]
    with supervisor.installed():
        for sleeper in sleepers:
            supervisor.start(sleeper)
        os.kill(os.getpid(), signal.SIGTERM)  # handled: it only asks the supervisor to stop
        supervisor.sleep(0.5)
        assert supervisor.stopping
        supervisor.stop(grace=5)
        supervisor.start(Component("late", ["sleep", "600"]))
    assert [s.process.returncode for s in sleepers if s.process] == [-15, -15]
    assert [c.name for c in supervisor.components] == ["sleeper-1", "sleeper-2"]
    assert said == []
