"""Worker processes: RQ workers that run ``tasks.run_job``, and their supervisor.

Each worker process is a thin subclass of RQ's SimpleWorker: RQ hands it the
job id and the runner starts the application as a child process itself, so a
fork per job (RQ's default horse) would only cost time. ``--concurrency N``
starts N such processes under one supervisor; when the supervisor dies, even
by SIGKILL, its workers get SIGTERM and stop as below. The worker's identity,
``<hostname>:<pid>:<n>``, is its RQ name and is recorded on every job it runs.

Stopping (SIGTERM or SIGINT): a worker takes no new job; a running job may
finish within MULTIFLEXI_STOP_GRACE seconds, after which its process group is
stopped (SIGTERM, then SIGKILL) and the job is recorded ``failed`` with an
exit description that begins with ``interrupted:``, so its retry policy and
failure actions apply. A second signal stops the running job at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from rq import SimpleWorker
from rq.executions import Execution
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.queue import Queue
from rq.registry import StartedJobRegistry
from rq.utils import now as rq_now
from rq.worker import WorkerStatus

from multiflexi.core import config, queue
from multiflexi.executor import jobuser, tasks, workdirs
from multiflexi.executor.runner import ExecutorContext

log = logging.getLogger("multiflexi.executor")
RESTART_PAUSE = 1.0
#: a worker renews its RQ registration at most this often (RQ's own worker does it
#: several times per job). The registration lives worker_ttl + 60 s, the longest wait
#: for work is worker_ttl - 15 s: a renewal this much older still outlives the wait
HEARTBEAT_EVERY = 5.0
#: how often a busy worker looks whether ``rq suspend`` suspended the workers
SUSPENSION_CHECK_EVERY = 1.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _rq_has_the_lean_paths_internals() -> bool:
    """Whether this rq has the worker internals JobWorker's start and finish use (rq 3.0's)."""
    import inspect

    try:
        handle = inspect.signature(RQJob._handle_success).parameters
        cleanup = inspect.signature(RQJob.cleanup).parameters
        create = inspect.signature(Execution.create).parameters
    except (AttributeError, TypeError, ValueError):
        return False
    return (
        {"result_ttl", "pipeline", "worker_name", "execution_id"} <= set(handle)
        and {"execution_started_at", "execution_ended_at"} <= set(handle)
        and {"ttl", "pipeline", "remove_from_queue"} <= set(cleanup)
        and {"job", "ttl", "pipeline", "worker_name"} <= set(create)
        and all(
            hasattr(SimpleWorker, name)
            for name in (
                "cleanup_execution",
                "increment_successful_job_count",
                "increment_total_working_time",
                "get_heartbeat_ttl",
            )
        )
        and all(
            hasattr(RQJob, name)
            for name in ("prepare_for_execution", "dependents_key", "has_rate_limit")
        )
        and hasattr(Queue, "enqueue_dependents")
        and hasattr(Queue, "intermediate_queue_key")
    )


#: JobWorker starts and finishes a delivery in fewer round trips (rq 3.0's internals)
LEAN_RQ_PATHS = _rq_has_the_lean_paths_internals()


def identity(index: int) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class JobWorker(SimpleWorker):
    """An RQ worker that runs MultiFlexi jobs in its own process and stops gracefully."""

    def __init__(self, queues: Sequence[str], *, context: ExecutorContext, **kwargs: Any):
        super().__init__(list(queues), name=context.worker, connection=context.redis, **kwargs)
        self.context = context
        # RQ's default (pickle) either way: the queues and jobs it makes with None take it at
        # once, with the resolved class they check it against a typing Protocol (slow in
        # Python 3.11, several times a job)
        self.serializer = None  # type: ignore[assignment]
        self._signalled_at = 0.0
        self._beat_at = float("-inf")
        self._suspension_checked_at = float("-inf")
        #: the delivery whose execution _start began (RQ's preparation is then done)
        self._prepared: str | None = None
        #: a job is being run or its end recorded: a stop waits for the record to be written
        self._in_job = False

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGTERM, self._on_stop_signal)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        stamp = time.monotonic()
        stop = self.context.stop
        if stop.requested:
            if stamp - self._signalled_at > 1.0:  # a terminal's ^C reaches us twice at once
                log.warning("worker %s: second signal, stopping the running job now", self.name)
                stop.request(0, signum)
            return
        self._signalled_at = stamp
        log.info(
            "worker %s: stopping; a running job may finish within %g s",
            self.name,
            self.context.options.stop_grace,
        )
        stop.request(self.context.options.stop_grace, signum)
        if self._in_job:
            # RQ's request_stop asks the worker's state, which the end of a job marks idle
            # before its record is written: raising StopRequested there broke the record
            self._stop_requested = True
            return
        try:
            self.request_stop(signum, frame)  # raises StopRequested when idle
        finally:
            # RQ's request_stop makes the next signal a cold shutdown; ours stays in charge
            signal.signal(signal.SIGINT, self._on_stop_signal)
            signal.signal(signal.SIGTERM, self._on_stop_signal)

    def unsubscribe(self) -> None:
        """RQ's, without a wait of up to a minute when the worker stops.

        RQ's listener thread polls with a 60 s timeout, and redis-py 8 ``stop()``
        waits for it without limit: once the unsubscribe is read, the thread waits
        for a new subscription for the rest of those 60 s, so a ``--burst`` worker
        sometimes took a minute to exit. The thread is a daemon; it is given a
        second, as RQ meant.
        """
        thread = self.pubsub_thread
        if thread is None:
            return
        with contextlib.suppress(Exception):
            self.pubsub.unsubscribe()
        try:
            thread.stop(timeout=1)  # redis-py 8
        except TypeError:  # older redis-py: stop() only clears the flag
            thread.stop()
            thread.join(timeout=1)
        if not thread.is_alive():
            with contextlib.suppress(Exception):
                self.pubsub.close()
        self.pubsub_thread = None

    # -- less Redis chatter per job than RQ's own worker --------------------------------
    #
    # Between two jobs RQ's worker renews its registration three times (three round
    # trips each), writes its state twice and looks for a suspension once. The
    # registration lives for minutes and only this worker writes its state, so a busy
    # worker does each at most every few seconds; what other tools see is the same.
    # The delivery's heartbeat after the job is left out too.

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        stamp = time.monotonic()
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
        elif timeout is None and stamp - self._beat_at < HEARTBEAT_EVERY:
            return
        else:
            with self.connection.pipeline(transaction=False) as batch:
                super().heartbeat(timeout, pipeline=batch)
                batch.execute()
        self._beat_at = stamp

    def handle_execution_ended(self, job: RQJob, queue: Queue, heartbeat_ttl: int) -> None:
        # RQ's also renews the delivery's heartbeat, to cover the time its record takes to
        # be finalized: here that follows at once (the job's own record is in the database)
        job.ended_at = rq_now()

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is None and state == self._state:
            return
        super().set_state(state, pipeline=pipeline)

    def check_for_suspension(self, burst: bool) -> None:
        stamp = time.monotonic()
        if stamp - self._suspension_checked_at < SUSPENSION_CHECK_EVERY:
            return
        self._suspension_checked_at = stamp
        super().check_for_suspension(burst)

    # -- fewer round trips per job ---------------------------------------------------
    #
    # RQ's worker makes nine between two jobs here; these make four (take the next
    # delivery, read it, start it, finish it). The start writes the execution and the
    # job's preparation in one transaction; the finish leaves out the look for RQ
    # dependents (our deliveries have none; should one have some, they are enqueued
    # after), marks the worker idle and carries the job's end message for live viewers.
    # They use rq 3.0's worker internals: with an rq whose internals differ
    # (LEAN_RQ_PATHS false), RQ's own start and finish run instead.

    def execute_job(self, job: RQJob, queue: Queue) -> None:
        execution = self._start(job) if LEAN_RQ_PATHS else self.prepare_execution(job)

        def beat() -> None:
            self.maintain_heartbeats(job, execution)

        self.context.on_heartbeat = beat
        self.context.end_messages = []
        self._in_job = True
        try:
            self.perform_job(job, queue, execution)
        finally:
            self._in_job = False
            self.context.on_heartbeat = None
            left = self._take_end_messages()
            self.context.end_messages = None
            if left:  # RQ's own finish ran (a failure, or not the lean paths): publish now
                with contextlib.suppress(Exception), self.connection.pipeline(False) as batch:
                    for channel, message in left:
                        batch.publish(channel, message)
                    batch.execute()  # best effort, as every live message
        self.set_state(WorkerStatus.IDLE)

    def _start(self, job: RQJob) -> Execution:
        """RQ's prepare_execution and prepare_job_execution as one transaction."""
        heartbeat_ttl = self.get_heartbeat_ttl(job)
        with self.connection.pipeline() as pipeline:
            execution = Execution.create(
                job, heartbeat_ttl, pipeline=pipeline, worker_name=self.name
            )
            self.executions[execution.id] = execution
            self.set_state(WorkerStatus.BUSY, pipeline=pipeline)
            if time.monotonic() - self._beat_at >= HEARTBEAT_EVERY:
                # the registration outlives a renewal this recent by more than a minute;
                # the job's runner renews it with the job's lease (every 5 s at most)
                self.heartbeat(heartbeat_ttl, pipeline=pipeline)
            # (RQ also sets the delivery's last heartbeat: the preparation sets it too)
            job.prepare_for_execution(self.name, pipeline=pipeline)
            pipeline.persist(job.key)
            if len(self.queues) == 1:  # RQ's perform_job asks for this with one queue
                pipeline.lrem(self.queues[0].intermediate_queue_key, 1, job.id)
            pipeline.execute()
        self._prepared = job.id
        return execution

    def prepare_job_execution(
        self, job: RQJob, remove_from_intermediate_queue: bool = False
    ) -> None:
        if self._prepared == job.id:  # done with the execution's start
            self._prepared = None
            self.procline(f"Processing {job.func_name} from {job.origin} since {time.time()}")
            return
        super().prepare_job_execution(job, remove_from_intermediate_queue)

    def _take_end_messages(self) -> list[tuple[str, str]]:
        """The end messages the runner left for this worker to publish (now nobody else's)."""
        messages = self.context.end_messages or []
        if messages:
            self.context.end_messages = []
        return messages

    def handle_job_success(
        self,
        job: RQJob,
        queue: Queue,
        started_job_registry: StartedJobRegistry,
        execution: Execution,
    ) -> None:
        if not LEAN_RQ_PATHS or job.repeats_left or job.has_rate_limit:
            # (rate limits and repeats: RQ features our deliveries never use)
            super().handle_job_success(job, queue, started_job_registry, execution)
            return
        result_ttl = job.get_result_ttl(self.default_result_ttl)
        with self.connection.pipeline() as pipeline:
            self.increment_successful_job_count(pipeline=pipeline)
            assert job.started_at is not None and job.ended_at is not None
            self.increment_total_working_time(job.ended_at - job.started_at, pipeline)
            if result_ttl != 0:
                job._handle_success(
                    result_ttl,
                    pipeline=pipeline,
                    worker_name=self.name,
                    execution_id=execution.id,
                    execution_started_at=execution.created_at,
                    execution_ended_at=job.ended_at,
                )
            job.cleanup(result_ttl, pipeline=pipeline, remove_from_queue=False)
            job._status = JobStatus.FINISHED
            self.cleanup_execution(job, pipeline=pipeline, execution=execution)
            self.set_state(WorkerStatus.IDLE, pipeline=pipeline)
            for channel, message in self._take_end_messages():
                pipeline.publish(channel, message)
            pipeline.scard(job.dependents_key)
            dependents = pipeline.execute()[-1]
        if dependents:  # added by someone else through RQ: enqueued as RQ would
            queue.enqueue_dependents(job)
        self.log.info("Successfully completed job %s on worker %s", job.id, self.name)


def work(
    settings: config.Settings,
    queues: Sequence[str],
    *,
    burst: bool,
    index: int = 1,
    logging_level: str = "INFO",
    job_user: jobuser.JobUser | None = None,
) -> int:
    """Run one worker in this process until stopped (with ``burst``: until the queues are empty)."""
    queue.connect.cache_clear()  # never share a connection with a parent process
    context = tasks.make_context(settings, worker=identity(index), job_user=job_user)
    tasks.use(context)
    worker = JobWorker(queues, context=context)
    try:
        worker.work(burst=burst, logging_level=logging_level)
    finally:
        tasks.use(None)
        workdirs.discard(Path(settings.tmp_dir))
    return 0


def _stop_with_parent(parent: int) -> None:
    """Have the kernel send SIGTERM (a graceful stop) when the supervisor dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _child(
    settings: config.Settings,
    queues: Sequence[str],
    burst: bool,
    index: int,
    parent: int,
    logging_level: str,
    job_user: jobuser.JobUser | None,
) -> None:
    _stop_with_parent(parent)
    os._exit(
        work(
            settings,
            queues,
            burst=burst,
            index=index,
            logging_level=logging_level,
            job_user=job_user,
        )
    )


def _sweep(settings: config.Settings) -> None:
    """Remove what jobs of dead workers left on this host (see :mod:`leftovers`)."""
    from multiflexi.executor import leftovers

    try:
        with config.one_session(settings) as session:
            leftovers.sweep(session, Path(settings.tmp_dir), dict(os.environ))
    except Exception as exc:  # never a reason not to start
        log.warning("could not look for what dead workers left: %s", exc)


def serve(
    settings: config.Settings,
    queues: Sequence[str],
    *,
    concurrency: int = 1,
    burst: bool = False,
    logging_level: str = "INFO",
    job_user: jobuser.JobUser | None = None,
) -> int:
    """Run ``concurrency`` worker processes; forward stop signals; restart one that died.

    ``job_user`` (resolved by the caller when None): who jobs run as; when they run
    as the worker's own user, one warning says so here, once for all the processes.
    """
    if job_user is None:
        from multiflexi.executor.defaults import ExecutorSettings

        job_user = jobuser.resolve(ExecutorSettings.from_environ(settings.environ), settings)
    if job_user.note:
        log.warning("%s", job_user.note)
    else:
        log.info("jobs run as %s, each worker's in a group of its own", job_user.name)
    jobuser.make_undumpable()
    _sweep(settings)
    if concurrency <= 1:
        return work(
            settings,
            queues,
            burst=burst,
            index=1,
            logging_level=logging_level,
            job_user=job_user,
        )
    context = multiprocessing.get_context("fork")
    children: dict[int, multiprocessing.process.BaseProcess] = {}
    stopping = {"at": 0.0}

    def launch(index: int) -> None:
        process = context.Process(
            target=_child,
            args=(settings, list(queues), burst, index, os.getpid(), logging_level, job_user),
            name=f"worker-{index}",
        )
        process.start()
        children[index] = process

    def forward(signum: int, _frame: FrameType | None) -> None:
        stamp = time.monotonic()
        if stopping["at"] and stamp - stopping["at"] < 1.0:
            return
        stopping["at"] = stamp
        for process in children.values():
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for index in range(1, concurrency + 1):
        launch(index)
    status = 0
    while children:
        for index, process in list(children.items()):
            process.join(timeout=0.2)
            if process.exitcode is None:
                continue
            del children[index]
            if process.exitcode != 0:
                status = 1
                if not burst and not stopping["at"]:
                    log.warning(
                        "worker %d exited with %s; starting it again", index, process.exitcode
                    )
                    time.sleep(RESTART_PAUSE)
                    launch(index)
    return status
