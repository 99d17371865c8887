"""The executor's settings and their defaults, in one place.

Every value can be set in the environment or the env file (the same rules as
every MultiFlexi setting); a wrong one stops the worker with one line naming it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from multiflexi.core.errors import ConfigurationError

#: seconds a running job's lease lasts; the worker renews it (MULTIFLEXI_JOB_LEASE)
JOB_LEASE = 60.0
#: seconds between SIGTERM and SIGKILL of a job's process group (MULTIFLEXI_KILL_GRACE)
KILL_GRACE = 10.0
#: seconds a stopping worker lets its running job finish (MULTIFLEXI_STOP_GRACE)
STOP_GRACE = 30.0
#: publish masked output lines on Redis for the live tail (MULTIFLEXI_LIVE_OUTPUT)
LIVE_OUTPUT = True
#: an output batch is stored when it has this many lines, bytes, or is this old
BATCH_LINES = 500
BATCH_BYTES = 256 * 1024
BATCH_SECONDS = 0.25
#: a longer line is stored in pieces of this many characters
MAX_LINE = 32 * 1024
#: artifacts up to this size are stored in the database; larger ones by path
ARTIFACT_INLINE_LIMIT = 16 * 1024 * 1024
#: exit code of `run-template` when its --timeout expires (GNU timeout's convention)
TIMEOUT_EXIT = 124
#: the user jobs run as when MULTIFLEXI_JOB_USER is unset and the worker is root: this
#: one when it exists (the deployment files create it), else FALLBACK_JOB_USER
JOB_USER = "multiflexi-job"
FALLBACK_JOB_USER = "nobody"
#: a job's group is this plus its worker process's pid (MULTIFLEXI_JOB_GID_BASE): jobs
#: of different workers never share a group (0x70000000: a range no distribution uses)
JOB_GID_BASE = 0x70000000
#: the umask of every job: what it creates is its own
JOB_UMASK = 0o077


def _seconds(environ: Mapping[str, str], name: str, default: float, low: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(name, f"must be a number of seconds, not {raw!r}") from None
    if value < low:
        raise ConfigurationError(name, f"must be at least {low:g} seconds")
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(name, f"must be true or false, not {raw!r}")


def _gid_base(environ: Mapping[str, str]) -> int:
    raw = environ.get("MULTIFLEXI_JOB_GID_BASE", "").strip()
    if not raw:
        return JOB_GID_BASE
    try:
        value = int(raw, 0)
    except ValueError:
        raise ConfigurationError(
            "MULTIFLEXI_JOB_GID_BASE", f"must be a group id number, not {raw!r}"
        ) from None
    # pids reach 2**22: every job group must stay a valid unsigned 32-bit id below 2**32 - 1
    if not 1000 <= value <= 2**32 - 2 - 2**22:
        raise ConfigurationError(
            "MULTIFLEXI_JOB_GID_BASE", f"must be between 1000 and {2**32 - 2 - 2**22}"
        )
    return value


@dataclasses.dataclass(frozen=True)
class ExecutorSettings:
    """The executor's own settings (the database, Redis and directories are the core's)."""

    lease: dt.timedelta = dt.timedelta(seconds=JOB_LEASE)
    kill_grace: float = KILL_GRACE
    stop_grace: float = STOP_GRACE
    live_output: bool = LIVE_OUTPUT
    #: MULTIFLEXI_JOB_USER as given ("" when unset); see multiflexi.executor.jobuser
    job_user: str = ""
    job_gid_base: int = JOB_GID_BASE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ExecutorSettings:
        return cls(
            lease=dt.timedelta(seconds=_seconds(environ, "MULTIFLEXI_JOB_LEASE", JOB_LEASE, 1)),
            kill_grace=_seconds(environ, "MULTIFLEXI_KILL_GRACE", KILL_GRACE, 0),
            stop_grace=_seconds(environ, "MULTIFLEXI_STOP_GRACE", STOP_GRACE, 0),
            live_output=_flag(environ, "MULTIFLEXI_LIVE_OUTPUT", LIVE_OUTPUT),
            job_user=environ.get("MULTIFLEXI_JOB_USER", "").strip(),
            job_gid_base=_gid_base(environ),
        )

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between heartbeats (and cancel checks): a third of the lease, at most 5."""
        return max(0.2, min(self.lease.total_seconds() / 3, 5.0))
