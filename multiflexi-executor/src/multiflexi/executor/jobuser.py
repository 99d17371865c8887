"""Who a job runs as: an unprivileged user that owns nothing of MultiFlexi, in a group of its own.

A worker started as root runs every job as the job user (``MULTIFLEXI_JOB_USER``;
unset: ``multiflexi-job`` when the machine has it, else ``nobody``). The user is
looked up, and what it could reach is checked, once when the worker starts; a job
then costs no more than the ``setpriv`` in front of its command (an ``exec``; Python's
own ``user=`` would make every start a ``fork`` of the worker instead of a ``vfork``).

Each job gets:

- the job user's uid, and as its group ``MULTIFLEXI_JOB_GID_BASE`` + the worker
  process's pid (the job user's own group as a supplementary one). Jobs of different
  workers never share a group, and the kernel lets a process read another's
  ``/proc/<pid>/environ``, ``cwd`` or memory only when both uid and gid match: a job
  cannot read a concurrent job's environment (its secrets) or find its directory;
- a work directory owned by the worker, of that group, mode 0770, inside
  ``MULTIFLEXI_TMP`` (owned by the worker, mode 0711: reachable, not listable): a job
  can reach its own directory and no other job's;
- umask 077.

The worker itself is made non-dumpable (``PR_SET_DUMPABLE`` 0): the kernel then
shows its ``/proc/<pid>/environ`` to root only, so a job cannot read the worker's
environment (the database password, the master key) even when it runs as the
worker's own user.

Where switching users is impossible (the worker is not root, as in a ``multiflexi
up`` stack of an ordinary user) jobs run as the worker's user; the worker says so
once, in one log line, at start.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import pwd
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url

from multiflexi.core.config import Settings
from multiflexi.core.errors import ConfigurationError
from multiflexi.database.settings import DEFAULT_ENV_FILE
from multiflexi.executor import defaults
from multiflexi.executor.defaults import ExecutorSettings

PR_SET_DUMPABLE = 4  # linux/prctl.h
#: the work directories' parent: the worker's, reachable by jobs but not listable
TMP_MODE = 0o711
VARIABLE = "MULTIFLEXI_JOB_USER"


@dataclasses.dataclass(frozen=True)
class JobUser:
    """The user jobs run as, resolved once per worker start."""

    name: str
    uid: int
    #: the user's own group (each job has it as a supplementary group)
    gid: int
    home: str
    #: False: jobs run as the worker's own user (it cannot, or is told not to, switch)
    switch: bool
    #: what the worker says once at start when jobs are not kept from its files
    note: str | None = None
    #: the ``setpriv`` program; None: Python's own ``user=`` (a fork per job)
    setpriv: str | None = None

    def credentials(self, gid_base: int, pid: int | None = None) -> Credentials:
        """What the jobs of the worker process ``pid`` (this one) run with."""
        if not self.switch:
            return Credentials()
        group = gid_base + (os.getpid() if pid is None else pid)
        return Credentials(
            uid=self.uid, gid=group, groups=(self.gid,), home=self.home, setpriv=self.setpriv
        )


@dataclasses.dataclass(frozen=True)
class Credentials:
    """The uid, group and supplementary groups of one worker process's jobs (None: its own)."""

    uid: int | None = None
    gid: int | None = None
    groups: tuple[int, ...] = ()
    home: str | None = None
    setpriv: str | None = None

    @property
    def switch(self) -> bool:
        return self.uid is not None

    @property
    def work_dir_mode(self) -> int:
        """0770 of the job's group when jobs switch users, else 0700 of the worker's user."""
        return 0o770 if self.switch else 0o700

    def prefix(self) -> list[str]:
        """What goes before the job's argv: ``setpriv`` with the job's ids, or nothing."""
        if not self.switch or self.setpriv is None:
            return []
        return [
            self.setpriv,
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--groups=" + ",".join(str(g) for g in self.groups),
            "--",
        ]

    @property
    def python_switch(self) -> bool:
        """Switch with Python's own ``user=`` (no ``setpriv`` here; every start a fork)."""
        return self.switch and self.setpriv is None

    def inherited(self, environ: Mapping[str, str]) -> Mapping[str, str]:
        """The worker's variables a job may inherit from, with the job user's HOME."""
        if not self.switch or self.home is None:
            return environ
        return {**environ, "HOME": self.home}


def make_undumpable() -> None:
    """Only root may read this process's /proc files (environ, mem) from now on."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _entry(value: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwuid(int(value)) if value.isdigit() else pwd.getpwnam(value)
    except KeyError:
        raise ConfigurationError(VARIABLE, f"there is no user {value!r} on this machine") from None


def _default_entry() -> pwd.struct_passwd:
    for name in (defaults.JOB_USER, defaults.FALLBACK_JOB_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ConfigurationError(
        VARIABLE,
        f"is not set and this machine has neither a {defaults.JOB_USER!r} nor a "
        f"{defaults.FALLBACK_JOB_USER!r} user; create one or name the user jobs run as",
    )


def env_file_in_use(env_file: str | None, environ: Mapping[str, str]) -> Path | None:
    """The settings file the worker read (the rule of multiflexi.database.settings)."""
    named = env_file or environ.get("MULTIFLEXI_ENV_FILE", "").strip()
    if named:
        return Path(named)
    default = Path(DEFAULT_ENV_FILE)
    return default if default.is_file() else None


def resolve(
    options: ExecutorSettings,
    settings: Settings,
    *,
    env_file: Path | None = None,
    euid: int | None = None,
) -> JobUser:
    """The job user, checked; ConfigurationError (naming the setting) when it cannot be used."""
    euid = os.geteuid() if euid is None else euid
    try:
        me = pwd.getpwuid(euid).pw_name
    except KeyError:
        me = str(euid)
    if options.job_user:
        entry = _entry(options.job_user)
    elif euid != 0:
        return _own(euid, me, "only a worker started as root can run them as another user")
    else:
        entry = _default_entry()
    if entry.pw_uid == euid:
        return _own(euid, me, f"{VARIABLE} names the worker's own user")
    if euid != 0:
        raise ConfigurationError(
            VARIABLE,
            f"the worker runs as {me} and cannot run jobs as {entry.pw_name} (only a worker "
            f"started as root can); unset it to run jobs as {me}",
        )
    user = JobUser(
        name=entry.pw_name,
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        home=entry.pw_dir,
        switch=True,
        setpriv=shutil.which("setpriv", path=os.environ.get("PATH") or os.defpath),
    )
    _check(user, settings, env_file)
    return user


def _own(uid: int, name: str, why: str) -> JobUser:
    try:
        entry = pwd.getpwuid(uid)
        gid, home = entry.pw_gid, entry.pw_dir
    except KeyError:
        gid, home = os.getegid(), os.environ.get("HOME", "/")
    note = (
        f"jobs run as {name}, the worker's own user ({why}): a job can read what {name} "
        "can read, the settings, the database and the master key included"
    )
    return JobUser(name=name, uid=uid, gid=gid, home=home, switch=False, note=note)


# -- what the job user could reach --------------------------------------------------------


def _groups(user: JobUser) -> set[int]:
    # a job has only the user's own group besides its job group (setpriv --groups)
    return {user.gid}


def _allows(info: os.stat_result, uid: int, gids: set[int], bits: int) -> bool:
    """Whether the mode grants the user any of ``bits`` (4 read, 2 write, 1 search/exec)."""
    if info.st_uid == uid:
        return bool((info.st_mode >> 6) & bits)
    if info.st_gid in gids:
        return bool((info.st_mode >> 3) & bits)
    return bool(info.st_mode & bits)


def _blocker(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The first directory on the way to ``path`` the user cannot pass, or None."""
    for parent in reversed(path.parents):
        if not _allows(os.stat(parent), uid, gids, 1):
            return parent
    return None


def _open_to(path: Path, user: JobUser, gids: set[int]) -> str | None:
    """How the job user could use ``path`` (``read``, ``change``), or None when it cannot."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if _blocker(path, user.uid, gids) is not None:
        return None
    if stat.S_ISDIR(info.st_mode) and not _allows(info, user.uid, gids, 1):
        return None
    if _allows(info, user.uid, gids, 4):
        return "read"
    if _allows(info, user.uid, gids, 2):
        return "change"
    return None


def _mode(path: Path) -> str:
    return f"{stat.S_IMODE(os.stat(path).st_mode):04o}"


def _check(user: JobUser, settings: Settings, env_file: Path | None) -> None:
    gids = _groups(user)
    data_dir = Path(settings.data_dir)
    with contextlib.suppress(OSError):
        if os.stat(data_dir).st_uid == user.uid:
            raise ConfigurationError(
                VARIABLE,
                f"{user.name} owns the data directory {data_dir}; jobs must run as a user "
                "that owns nothing of MultiFlexi",
            )
    protected: list[tuple[str, Path]] = [("MULTIFLEXI_DATA_DIR", data_dir)]
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        protected.append(("DATABASE_URL", Path(url.database)))
    if env_file is not None:
        protected.append(("MULTIFLEXI_ENV_FILE", env_file))
    for variable, path in protected:
        how = _open_to(path, user, gids)
        if how is not None:
            raise ConfigurationError(
                variable,
                f"{path} is open to the job user {user.name} (mode {_mode(path)}): a job "
                f"could {how} it; make it private to MultiFlexi (chmod go-rwx {path})",
            )
    _prepare_tmp(Path(settings.tmp_dir), user, gids)


def _prepare_tmp(tmp: Path, user: JobUser, gids: set[int]) -> None:
    """MULTIFLEXI_TMP: the worker's own, mode 0711, and reachable by the job user."""
    tmp.mkdir(parents=True, exist_ok=True)
    info = os.lstat(tmp)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ConfigurationError(
            "MULTIFLEXI_TMP",
            f"{tmp} must be a directory of the worker's own user (not a link, not another "
            "user's): whoever owns it can tamper with the jobs' work directories",
        )
    if stat.S_IMODE(info.st_mode) != TMP_MODE:
        os.chmod(tmp, TMP_MODE)
    blocker = _blocker(tmp / "x", user.uid, gids)
    if blocker is not None:
        raise ConfigurationError(
            "MULTIFLEXI_TMP",
            f"the job user {user.name} cannot reach {tmp}: {blocker} is mode {_mode(blocker)}; "
            "choose a MULTIFLEXI_TMP outside private directories",
        )


__all__ = ["Credentials", "JobUser", "env_file_in_use", "make_undumpable", "resolve"]
