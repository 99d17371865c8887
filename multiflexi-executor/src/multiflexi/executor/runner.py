"""One job, start to end: gate -> claim -> slot -> environment -> back-end -> outcome -> actions.

The process runs without a shell, in a new session (its own process group), in
the job's own work directory ``<MULTIFLEXI_TMP>/job-<id>``, with the assembled
environment plus the allow-listed system variables only. One loop reads
stdout and stderr as they come (selectors), stores masked lines in batches,
renews the lease, watches for a cancel request, the timeout and a stopping
worker. Stopping a job means SIGTERM to its group, then SIGKILL after the kill
grace. A signalled process's exit code is stored as 128 + the signal number.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import mimetypes
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from multiflexi.core import jobenv, lifecycle, tasks
from multiflexi.core.config import Settings
from multiflexi.core.environment import JobEnvironment
from multiflexi.core.errors import MultiFlexiError
from multiflexi.core.lifecycle import ArtifactFile, Outcome, Start
from multiflexi.core.models import Job, JobOutputLine
from multiflexi.executor import actions, artifacts, backends, defaults, guard, workdirs
from multiflexi.executor.defaults import ExecutorSettings
from multiflexi.executor.jobuser import Credentials
from multiflexi.executor.output import Echo, LineSplitter, OutputSink, Publisher

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger("multiflexi.executor")

READ_SIZE = 64 * 1024
#: after the main process ended, how long stragglers may keep its pipes open
DRAIN_SECONDS = 2.0
#: a process still running after this many seconds has its pid, command and (redacted)
#: environment stored at once; a shorter one has them stored with its outcome
PROCESS_FACTS_AFTER = 0.5


class StopRequest:
    """A stopping worker: no new jobs; the running one may finish until the deadline."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.signal: int = signal.SIGTERM

    @property
    def requested(self) -> bool:
        return self.deadline is not None

    def request(self, grace: float, signum: int = signal.SIGTERM) -> None:
        stamp = time.monotonic()
        self.signal = signum
        self.deadline = stamp + grace if self.deadline is None else min(self.deadline, stamp)

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


@dataclasses.dataclass
class ExecutorContext:
    """What running jobs needs, made once per worker process."""

    settings: Settings
    options: ExecutorSettings
    sessions: sessionmaker[Session]
    worker: str
    redis: Redis | None = None
    stop: StopRequest = dataclasses.field(default_factory=StopRequest)
    #: called with every heartbeat (the RQ worker keeps its own heartbeat with it)
    on_heartbeat: Callable[[], None] | None = None
    #: set by the RQ worker while it runs a job: the job's end message for live viewers
    #: (channel, payload) is put here, and the worker publishes it with its own record
    #: of the delivery's end (one round trip less); None: published at once
    end_messages: list[tuple[str, str]] | None = None
    #: who this process's jobs run as (see multiflexi.executor.jobuser); default: the worker
    credentials: Credentials = dataclasses.field(default_factory=Credentials)

    def __post_init__(self) -> None:
        #: the worker variables a job may inherit from (the job user's HOME), made once
        self.inherited: Mapping[str, str] = self.credentials.inherited(os.environ)


@dataclasses.dataclass(frozen=True)
class RunResult:
    job_id: int
    start: Start
    outcome: Outcome | None = None
    #: the one-shot timeout ended the job
    timed_out: bool = False
    #: why the credential gate held the job back (Start.BLOCKED), and its state now
    block_reason: str | None = None
    state: str | None = None

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {"job_id": self.job_id, "start": self.start.value}
        if self.outcome is not None:
            data |= {"state": self.outcome.state, "exit_code": self.outcome.exit_code}
        if self.block_reason is not None:
            data |= {"state": self.state, "block_reason": self.block_reason}
        return data


def _popen(
    argv: list[str],
    env: Mapping[str, str] | None,
    cwd: str | Path | None,
    credentials: Credentials | None = None,
) -> subprocess.Popen[bytes]:
    """Start the job's process in its own session; the guard kills its group if the worker dies.

    No ``preexec_fn`` and no ``user=``: Python then starts the process with vfork,
    much faster than fork (no copy of the worker's page tables). A job that runs as
    the job user gets ``setpriv`` in front of its command instead (one more exec).
    """
    prefix = credentials.prefix() if credentials is not None else []
    # no setpriv on the machine: Python's own switch (every start then a fork)
    own = credentials if credentials is not None and credentials.python_switch else None
    if prefix:
        _require_program(argv[0], env, cwd)  # as Popen would have found out itself
    process = subprocess.Popen(
        prefix + argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        close_fds=True,
        umask=defaults.JOB_UMASK,
        user=own.uid if own is not None else None,
        group=own.gid if own is not None else None,
        extra_groups=list(own.groups) if own is not None else None,
    )
    guard.watch(process.pid)  # its own session: the group id is its pid
    return process


def _require_program(program: str, env: Mapping[str, str] | None, cwd: str | Path | None) -> None:
    """FileNotFoundError when there is no such program (the job's PATH, its work directory)."""
    if "/" in program:
        found = os.path.isfile(os.path.join(cwd or ".", program))
    else:
        path = (env or {}).get("PATH") or os.defpath
        found = shutil.which(program, path=path) is not None
    if not found:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when the process ends (Linux 5.3+), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _killpg(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def run(
    context: ExecutorContext,
    job_id: int,
    *,
    echo: Echo | None = None,
    timeout: float | None = None,
) -> RunResult:
    """Run one delivered job (the body of ``tasks.run_job``)."""
    with context.sessions() as session:
        started, job = lifecycle.begin(
            session, job_id, worker=context.worker, lease=context.options.lease, redis=context.redis
        )
        if started is Start.BLOCKED and job is not None:
            log.info("job %s: blocked: %s (now %s)", job_id, job.block_reason, job.state)
            return RunResult(job_id, started, block_reason=job.block_reason, state=job.state)
        if started is not Start.RUNNING or job is None:
            log.info("job %s: %s", job_id, started.value)
            return RunResult(job_id, started)
        try:
            return _Run(context, session, job, echo, timeout).execute()
        except BaseException as exc:
            # whatever broke, the job must not stay running
            session.rollback()
            with contextlib.suppress(Exception):
                lifecycle.conclude(
                    session,
                    job_id,
                    exit_code=None,
                    description=f"executor error: {type(exc).__name__}",
                    redis=context.redis,
                    retry=not isinstance(exc, KeyboardInterrupt | SystemExit),
                )
            raise


def run_actions(context: ExecutorContext, job_id: int) -> int:
    """The failure actions of a job that ended ``lost`` (its worker died), or of the
    job of an SLA task that the deadline sweep ended ``missed`` or ``failed``; how many
    failed.

    The reaper or the task sweep (core) hands them over: actions live in the executor. They get the
    recorded outcome, no environment (the job's died with its worker), and log on
    the job's output like those of a job that ended here.
    """
    with context.sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            return 0
        # a lost job, or the job of an SLA task that the sweep ended
        task_state = tasks.get(session, job.task_id).state if job.task_id is not None else None
        missed = task_state == "missed"
        if job.state != "lost" and task_state not in ("missed", "failed"):
            return 0
        outcome = lifecycle.Outcome(
            state="missed" if missed and job.state != "lost" else job.state,
            exit_code=job.exit_code,
            description=job.exit_description,
            severity=job.severity or lifecycle.FAILURE_SEVERITY,
            recorded=True,
        )
        sink = OutputSink(
            lambda first, lines: lifecycle.store_output(session, job_id, first, lines),
            first_seq=job.output_lines + 1,
        )
        failed = actions.run_all(
            session,
            job,
            outcome,
            environment=None,
            redis=context.redis,
            log=lambda text: sink.add("action", text),
            output=lambda limit: _stdout_text(session, sink, job_id, limit),
        )
        sink.flush()
        return failed


def _stdout_text(session: Session, sink: OutputSink, job_id: int, limit: int) -> str:
    """The job's stdout as stored (masked), at most ``limit`` characters."""
    sink.flush()
    lines = session.scalars(
        sa.select(JobOutputLine.text)
        .where(JobOutputLine.job_id == job_id, JobOutputLine.stream == "stdout")
        .order_by(JobOutputLine.seq)
        .limit(max(1, limit // 8))
    ).all()
    return "\n".join(lines)[:limit]


class _Run:
    """The state of one running job."""

    def __init__(
        self,
        context: ExecutorContext,
        session: Session,
        job: Job,
        echo: Echo | None,
        timeout: float | None,
    ):
        self.context = context
        self.session = session
        job_id = job.id
        self.job_id = job_id
        # lifecycle.begin read the job with its run template, application and company,
        # and the claim refreshed it: these copies are current (and held, so that the
        # session's weak identity map keeps them for the whole run)
        self.job: Job = job
        self.run_template = self.job.run_template
        self.application = self.run_template.application
        self.work_dir = Path(context.settings.tmp_dir) / f"job-{job_id}"
        self.private_dir = Path(context.settings.tmp_dir) / ".private"
        publisher = (
            Publisher(context.redis, job_id)
            if context.options.live_output and context.redis is not None
            else None
        )
        self.publisher = publisher
        # lines stored before the job ran (the credential gate's) keep their numbers
        self.sink = OutputSink(
            self._store, first_seq=job.output_lines + 1, publisher=publisher, echo=echo
        )
        self.environment: JobEnvironment | None = None
        #: pid, command and environment of the process, until they are stored
        self.process_facts: dict[str, Any] = {}
        limits = [t for t in (self.run_template.timeout or self.application.timeout, timeout) if t]
        self.timeout: float | None = min(limits) if limits else None
        self.cli_timeout = timeout
        #: when the job's lease is next renewed (the claim took it just now)
        self.next_beat = time.monotonic() + context.options.heartbeat_interval

    def _store(self, first: int, lines: list[tuple[str, str]]) -> int:
        return lifecycle.store_output(self.session, self.job_id, first, lines)

    def _system(self, text: str) -> None:
        self.sink.add("system", text)

    def _mask(self, text: str) -> str:
        return self.environment.mask(text) if self.environment is not None else text

    # -- the steps ------------------------------------------------------------------

    def execute(self) -> RunResult:
        credentials = self.context.credentials
        workdirs.make(self.work_dir, credentials)
        launch: backends.Launch | None = None
        try:
            try:
                self.environment = jobenv.assemble(
                    self.session,
                    self.run_template,
                    job=self.job,
                    work_dir=str(self.work_dir),
                    inherited=self.context.inherited,
                )
                argv = self.environment.render_command(
                    self.application.executable, self.application.cmdparams
                )
                backend = backends.load(self.job.executor)
                launch = backend.prepare(
                    backends.LaunchRequest(
                        job_id=self.job_id,
                        application=self.application,
                        argv=argv,
                        environment=self.environment,
                        work_dir=self.work_dir,
                        private_dir=self.private_dir,
                        worker_environ=os.environ,  # read only where needed (a container engine's)
                    )
                )
            except MultiFlexiError as exc:
                self.session.rollback()
                return self._end(None, None, f"cannot start: {self._mask(str(exc))}")
            return self._spawn_and_watch(launch)
        finally:
            if launch is not None:
                with contextlib.suppress(Exception):
                    launch.cleanup()
            workdirs.release(self.work_dir, credentials)

    def _spawn_and_watch(self, launch: backends.Launch) -> RunResult:
        assert self.environment is not None
        env = self.environment
        try:
            process = _popen(
                launch.argv,
                launch.env,
                launch.cwd,
                self.context.credentials if launch.as_job_user else None,
            )
        except OSError as exc:
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            what = "command not found" if code == 127 else "cannot execute"
            return self._end(None, code, f"{what}: {env.mask(launch.argv[0])} ({exc.strerror})")
        # facts about the process: stored once it has run for PROCESS_FACTS_AFTER seconds,
        # or with the outcome when it ends sooner (one commit less for short jobs)
        self.process_facts = {
            "pid": process.pid,
            "command": [env.mask(arg) for arg in launch.argv],
            "environment": env.redacted(),
        }
        reason, killed = self._watch(process, launch)
        code = _exit_code(process.returncode)
        if reason == "reaped":
            self.sink.flush()
            return RunResult(self.job_id, Start.RUNNING)
        how = "SIGTERM, then SIGKILL" if killed else "SIGTERM"
        description = None
        state = None
        if reason == "cancel":
            state, description = "cancelled", f"cancelled on request; process group stopped ({how})"
        elif reason == "timeout":
            description = f"timed out after {self.timeout:g} s; process group stopped ({how})"
        elif reason == "shutdown":
            description = (
                "interrupted: the worker was stopped before the job finished; "
                f"process group stopped ({how})"
            )
        if description:
            self._system(description)
        timed_out = (
            reason == "timeout"
            and self.cli_timeout is not None
            and (self.timeout == self.cli_timeout)
        )
        result = self._end(state, code, description)
        return dataclasses.replace(result, timed_out=timed_out)

    def _watch(
        self, process: subprocess.Popen[bytes], launch: backends.Launch
    ) -> tuple[str | None, bool]:
        """Read output until the process ended; why it was stopped (or None), and if killed."""
        assert self.environment is not None and process.stdout and process.stderr
        options = self.context.options
        secrets = self.environment.secrets()
        splitters = {
            process.stdout.fileno(): ("stdout", LineSplitter(self.environment.mask, secrets)),
            process.stderr.fileno(): ("stderr", LineSplitter(self.environment.mask, secrets)),
        }
        selector = selectors.DefaultSelector()
        for fd in splitters:
            selector.register(fd, selectors.EVENT_READ)
        # the process's end wakes the loop too (no polling for it once its pipes closed)
        exit_fd = _pidfd(process.pid)
        if exit_fd is not None:
            selector.register(exit_fd, selectors.EVENT_READ)
        begin = time.monotonic()
        deadline = begin + self.timeout if self.timeout else None
        self.next_beat = begin + options.heartbeat_interval
        facts_at = begin + PROCESS_FACTS_AFTER
        reason: str | None = None
        term_at: float | None = None
        killed = False
        exited_at: float | None = None
        open_fds = set(splitters)
        try:
            while True:
                wait = min(defaults.BATCH_SECONDS, max(0.0, self.next_beat - time.monotonic()))
                if open_fds or exit_fd is not None:
                    for key, _ in selector.select(wait):
                        fd = int(key.fd)
                        if fd == exit_fd:  # the process ended: poll() below reaps it
                            selector.unregister(fd)
                            os.close(fd)
                            exit_fd = None
                            continue
                        data = os.read(fd, READ_SIZE)
                        stream, splitter = splitters[fd]
                        if data:
                            self.sink.add_all(stream, splitter.feed(data))
                        else:
                            self.sink.add_all(stream, splitter.finish())
                            selector.unregister(fd)
                            open_fds.discard(fd)
                else:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=wait)
                if self.sink.due():
                    self.sink.flush()
                stamp = time.monotonic()
                if exited_at is None and process.poll() is not None:
                    exited_at = stamp
                if exited_at is not None:
                    if not open_fds:
                        break
                    if stamp - exited_at > DRAIN_SECONDS:
                        # stragglers of the group keep the pipes open: stop them
                        _killpg(process.pid, signal.SIGKILL)
                        if stamp - exited_at > 2 * DRAIN_SECONDS:
                            break
                if self.process_facts and stamp >= facts_at and exited_at is None:
                    lifecycle.record_process(self.session, self.job_id, **self.process_facts)
                    self.process_facts = {}
                if stamp >= self.next_beat:
                    beat = self._beat()
                    if reason is None and not beat.alive:
                        reason = "reaped"
                    elif reason is None and beat.cancel_requested:
                        reason = "cancel"
                if reason is None and deadline is not None and stamp >= deadline:
                    reason = "timeout"
                if reason is None and self.context.stop.expired():
                    reason = "shutdown"
                if reason is not None and exited_at is None:
                    if term_at is None:
                        term_at = stamp
                        _killpg(process.pid, signal.SIGTERM)
                    elif not killed and stamp - term_at >= options.kill_grace:
                        killed = True
                        _killpg(process.pid, signal.SIGKILL)
                        launch.stop()
        finally:
            selector.close()
            if exit_fd is not None:
                os.close(exit_fd)
            for stream, splitter in splitters.values():
                self.sink.add_all(stream, splitter.finish())
            process.stdout.close()
            process.stderr.close()
            if process.poll() is None:
                _killpg(process.pid, signal.SIGKILL)
            process.wait()
            _killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
            guard.release(process.pid)
            if reason is not None:
                launch.stop()
        return reason, killed

    # -- the end ---------------------------------------------------------------------

    def _artifacts(self) -> list[ArtifactFile]:
        found: list[ArtifactFile] = []
        seen: set[Path] = set()
        env = self.environment
        result_file = env["RESULT_FILE"].value if env is not None and "RESULT_FILE" in env else ""
        if result_file and "://" not in result_file and os.path.isabs(result_file):
            path = Path(result_file)
            if not self._in_work_dir(path):
                # a value may name any file the worker can read: only the job's own are kept
                if os.path.lexists(path):
                    self._system(
                        f"RESULT_FILE {self._mask(result_file)} is not a file in the job's "
                        "work directory: not kept as an artifact"
                    )
            elif path.is_file():
                found.append(self._artifact(path, "result", "result file of the job"))
                seen.add(path.resolve())
        patterns = []
        for item in lifecycle.artifact_rules(self.session, self.application.id):
            try:
                patterns.append((re.compile(item.pattern), item))
            except re.error:
                self._system(f"artifact pattern {item.pattern!r} is not a valid expression")
        if patterns and self.work_dir.is_dir():
            for path in sorted(self.work_dir.rglob("*")):
                if not self._in_work_dir(path) or not path.is_file() or path.resolve() in seen:
                    continue
                for pattern, item in patterns:
                    if pattern.search(path.name):
                        found.append(self._artifact(path, item.type, item.description or item.name))
                        seen.add(path.resolve())
                        break
        return found

    def _in_work_dir(self, path: Path) -> bool:
        """Whether ``path`` is a file of the job's work directory itself (not a link out of it)."""
        try:
            if path.is_symlink():
                return False
            return path.resolve(strict=True).is_relative_to(self.work_dir.resolve(strict=True))
        except OSError:
            return False

    def _beat(self) -> lifecycle.Beat:
        """Renew the job's lease (and RQ's heartbeat of the delivery)."""
        options = self.context.options
        self.next_beat = time.monotonic() + options.heartbeat_interval
        beat = lifecycle.heartbeat(
            self.session, self.job_id, worker=self.context.worker, lease=options.lease
        )
        if self.context.on_heartbeat is not None:
            with contextlib.suppress(Exception):
                self.context.on_heartbeat()
        return beat

    def _artifact(self, path: Path, kind: str | None, note: str | None) -> ArtifactFile:
        """The file as stored: a text file masked like the job's output (see :mod:`artifacts`)."""
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        size = path.stat().st_size
        if size <= defaults.ARTIFACT_INLINE_LIMIT:
            data = artifacts.masked(path.read_bytes(), self.environment)
            return lifecycle.artifact_from_bytes(
                path.name, data, content_type, type=kind, note=note
            )
        target = (
            Path(self.context.settings.data_dir) / "artifacts" / f"job-{self.job_id}" / path.name
        )
        target.parent.mkdir(parents=True, exist_ok=True)

        def tick() -> None:  # the lease is renewed while a big file takes time
            if time.monotonic() >= self.next_beat:
                self._beat()

        size, sha256 = artifacts.copy(path, target, self.environment, tick)
        return ArtifactFile(
            name=path.name,
            size=size,
            sha256=sha256,
            content_type=content_type,
            path=str(target),
            type=kind,
            note=note,
        )

    def _stdout_text(self, limit: int) -> str:
        return _stdout_text(self.session, self.sink, self.job_id, limit)

    def _end(self, state: str | None, code: int | None, description: str | None) -> RunResult:
        if code is None and description:
            self._system(description)
        files: list[ArtifactFile] = []
        try:
            files = self._artifacts()
        except OSError as exc:
            self._system(f"artifacts not collected: {exc.strerror or exc}")
        self.sink.flush()
        outcome = lifecycle.conclude(
            self.session,
            self.job_id,
            exit_code=code,
            state=state if state else (None if code is not None else "failed"),
            description=description,
            artifacts=files,
            redis=self.context.redis,
            facts=self.process_facts,
        )
        self.process_facts = {}
        job = self.session.get_one(Job, self.job_id) if outcome.recorded else None
        if job is not None and (
            # a failure of an SLA task that another attempt follows runs none: its task's
            # end runs them, once
            outcome.state == "success" or tasks.failure_actions_due(self.session, job)
        ):
            # the recorded outcome refreshed the session's copy of the job
            actions.run_all(
                self.session,
                job,
                outcome,
                environment=self.environment,
                redis=self.context.redis,
                log=lambda text: self.sink.add("action", self._mask(text)),
                output=self._stdout_text,
            )
        self.sink.flush()
        if self.publisher is not None:
            self.publisher.send(
                {"end": True, "state": outcome.state, "exit_code": outcome.exit_code},
                later=self.context.end_messages,
            )
        return RunResult(self.job_id, Start.RUNNING, outcome)
