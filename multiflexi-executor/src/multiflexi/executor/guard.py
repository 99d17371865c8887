"""The guard: a job's process group dies with its worker, even after ``kill -9``.

Every process that starts jobs has one guard, a small child process started on
first use. The worker tells it, over a pipe, the process group of each job it
starts (``+<pgid>``) and of each job it has finished with (``-<pgid>``). When
the pipe closes, because the worker exited or was killed, the guard sends
SIGKILL to every group it still knows and exits.

It replaces a parent-death signal per job, which cost an extra ``exec`` per job
(``setpriv``) or a ``fork`` instead of a ``vfork`` (``preexec_fn``), and which
reached only the job's first process: the guard stops the whole group, so a
job's own children (a shell script's background commands) die with it too.

The guard runs in a session of its own (a terminal's ^C does not reach it) and
ignores SIGTERM and SIGINT: it lives exactly as long as its worker's end of the
pipe. A job started before the guard learns of it (the worker dies between the
two) is the one case it misses.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading

#: the guard's whole program: standard library only, started with -I -S (no site)
PROGRAM = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
groups = set()
for line in sys.stdin.buffer:
    try:
        pgid = int(line[1:])
    except ValueError:
        continue
    if line[:1] == b"+":
        groups.add(pgid)
    else:
        groups.discard(pgid)
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class Guard:
    """This process's guard (see the module's text); made by :func:`guard`."""

    def __init__(self, groups: set[int] | None = None) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", PROGRAM],
            env={},  # the worker's variables (its secrets) stay out of the guard's /proc
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        assert self._process.stdin is not None
        self._fd = self._process.stdin.fileno()
        self._broken = False
        #: groups announced and not yet released (told again to a guard started anew)
        self.groups: set[int] = set()
        for pgid in sorted(groups or ()):
            self.watch(pgid)

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return not self._broken and self._process.poll() is None

    def _send(self, text: str) -> bool:
        try:
            os.write(self._fd, text.encode())
        except OSError:  # the guard is gone (someone killed it)
            self._broken = True
            return False
        return True

    def watch(self, pgid: int) -> bool:
        """Kill this group if the worker dies; False when the guard could not be told."""
        self.groups.add(pgid)
        return self._send(f"+{pgid}\n")

    def release(self, pgid: int) -> None:
        """The group ended (the worker saw to it): forget it."""
        self.groups.discard(pgid)
        self._send(f"-{pgid}\n")

    def close(self) -> None:
        """Stop the guard; the groups it still knows are killed."""
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)


_guard: Guard | None = None
_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked process has no guard: its parent's pipe must not keep that guard waiting."""
    global _guard
    if _guard is not None and _guard._process.stdin is not None:
        with contextlib.suppress(OSError):
            _guard._process.stdin.close()
    _guard = None


os.register_at_fork(after_in_child=_forget_in_child)


def guard() -> Guard:
    """This process's guard, started on first use, and again should it have died."""
    global _guard
    with _lock:
        if _guard is None or not _guard.alive():
            groups = _guard.groups if _guard is not None else set()
            if _guard is not None:
                _guard.close()
            _guard = Guard(groups)
        return _guard


def watch(pgid: int) -> None:
    """Have the group killed should this process die before it ends; see :class:`Guard`."""
    if not guard().watch(pgid):
        guard()  # the guard had died: a new one is told every group, this one included


def release(pgid: int) -> None:
    """The group ended; the guard forgets it."""
    if _guard is not None:
        _guard.release(pgid)
