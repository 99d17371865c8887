"""Throwaway database servers for the tests of MultiFlexi's own distributions.

This module is test support, shipped so that every MultiFlexi distribution tests
against the same real servers. It is not meant for production use.

    from multiflexi.database.testing import postgresql_server, mariadb_server, new_database

    @pytest.fixture(scope="session")
    def pg_server_url():
        with postgresql_server() as url:    # a fresh cluster on a free loopback port
            yield url

    @pytest.fixture
    def pg_url(pg_server_url):
        return new_database(pg_server_url)  # an empty database of its own per test

Each context manager creates a temporary directory, initialises a server in it,
starts it on 127.0.0.1 with a free port and settings tuned for speed (no fsync),
creates a database reachable with a password, and yields its SQLAlchemy URL. On
exit it stops the server and deletes the directory. When the process runs as
root, the server runs as an unprivileged system user (``postgres``/``mysql`` if
present, else ``nobody``), because neither server agrees to run as root.

When the server programs are not installed, the helpers skip the calling test
with the reason (``pytest.skip``), unless ``MULTIFLEXI_TEST_REQUIRE_SERVICES=1``
is set (as in CI): then they raise :class:`ServiceUnavailable` and the test fails.
A server that is installed but does not start raises :class:`ServiceStartError`,
with the end of its log, in every case.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

__all__ = [
    "REQUIRE_SERVICES_VARIABLE",
    "ServiceStartError",
    "ServiceUnavailable",
    "drop_database",
    "free_port",
    "mariadb_server",
    "new_database",
    "postgresql_server",
    "services_required",
    "unavailable",
]

#: set to 1 to make a missing server a failure instead of a skip
REQUIRE_SERVICES_VARIABLE = "MULTIFLEXI_TEST_REQUIRE_SERVICES"
#: seconds a server may take to accept connections
START_TIMEOUT = 60.0
#: seconds a server may take to stop before it is killed
STOP_TIMEOUT = 15.0


class ServiceUnavailable(RuntimeError):
    """A server program is missing and MULTIFLEXI_TEST_REQUIRE_SERVICES=1 requires it."""


class ServiceStartError(RuntimeError):
    """A server program is installed but did not start; the message ends with its log."""


def services_required() -> bool:
    """True when a missing server must fail the tests instead of skipping them."""
    return os.environ.get(REQUIRE_SERVICES_VARIABLE, "").strip() == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test with ``reason``, or fail when services are required."""
    if services_required():
        raise ServiceUnavailable(f"{reason} (and {REQUIRE_SERVICES_VARIABLE}=1 requires it)")
    try:
        import pytest
    except ImportError:  # pragma: no cover - only outside pytest
        raise ServiceUnavailable(reason) from None
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover - pytest.skip raises


# -- process helpers ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    """The system account a server runs as: None means the current process user."""

    uid: int | None = None
    gid: int | None = None


def _account(preferred: str) -> _Account:
    if os.geteuid() != 0:
        return _Account()
    for name in (preferred, "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return _Account(entry.pw_uid, entry.pw_gid)
    raise ServiceStartError(f"running as root, but neither {preferred!r} nor 'nobody' exists")


def _private_dir(prefix: str, account: _Account) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if account.uid is not None and account.gid is not None:
        os.chown(path, account.uid, account.gid)
    return path


def _extra_groups(account: _Account) -> list[int] | None:
    """No supplementary groups for a server we switched to another user (root's groups)."""
    return None if account.uid is None else []


def _run(argv: Sequence[str], account: _Account, cwd: Path, what: str) -> None:
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        user=account.uid,
        group=account.gid,
        extra_groups=_extra_groups(account),
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-2000:]
        raise ServiceStartError(f"{what} failed (exit {result.returncode}): {output}")


def _start(argv: Sequence[str], account: _Account, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as log_file:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=account.uid,
            group=account.gid,
            extra_groups=_extra_groups(account),
        )


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _log_tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace").strip()[-2000:]
    except OSError:
        return "(no log)"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(
                f"{what} exited with code {process.returncode}: {_log_tail(log)}"
            )
        if ready():
            return
        time.sleep(0.05)
    _stop(process, signal.SIGKILL)
    raise ServiceStartError(f"{what} did not start within {START_TIMEOUT:.0f}s: {_log_tail(log)}")


# -- PostgreSQL --------------------------------------------------------------------------


def _postgresql_bindir() -> Path | None:
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")],
        reverse=True,
    )
    candidates.extend(Path(p) for p in versions)
    for bindir in candidates:
        if all((bindir / name).is_file() for name in ("initdb", "postgres", "createdb")):
            return bindir
    return None


def _postgresql_ready(data: Path) -> bool:
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    # the eighth line of postmaster.pid is the server status
    return len(lines) >= 8 and lines[7].strip() == "ready"


@contextlib.contextmanager
def postgresql_server(database: str = "multiflexi_test") -> Iterator[str]:
    """Run a throwaway PostgreSQL server; yield the URL of ``database`` on it.

    The URL is ``postgresql+psycopg://postgres:<random password>@127.0.0.1:<port>/<database>``;
    TCP connections need that password (scram-sha-256), so a wrong one is refused.
    """
    bindir = _postgresql_bindir()
    if bindir is None:
        unavailable(
            "PostgreSQL server programs (initdb, postgres) not found on PATH "
            "or in /usr/lib/postgresql/*/bin"
        )
    account = _account("postgres")
    base = _private_dir("multiflexi-pg-", account)
    process: subprocess.Popen[bytes] | None = None
    try:
        password = secrets.token_hex(16)
        pwfile = base / "pwfile"
        pwfile.write_text(password + "\n")
        if account.uid is not None and account.gid is not None:
            os.chown(pwfile, account.uid, account.gid)
        data = base / "data"
        _run(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            account,
            base,
            "initdb",
        )
        pwfile.unlink()
        port = free_port()
        log = base / "postgres.log"
        process = _start(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(base),
                "-c",
                "listen_addresses=127.0.0.1",
                "-F",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=50",
            ],
            account,
            base,
            log,
        )
        _wait_until(lambda: _postgresql_ready(data), process, log, "postgres")
        _run(
            [
                str(bindir / "createdb"),
                "--host",
                str(base),
                "--port",
                str(port),
                "--username",
                "postgres",
                database,
            ],
            account,
            base,
            "createdb",
        )
        yield f"postgresql+psycopg://postgres:{password}@127.0.0.1:{port}/{database}"
    finally:
        if process is not None:
            _stop(process, signal.SIGINT)  # "fast" shutdown
        shutil.rmtree(base, ignore_errors=True)


# -- MariaDB -----------------------------------------------------------------------------


def _which(names: Sequence[str], extra_dirs: Sequence[str]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        for directory in extra_dirs:
            path = Path(directory) / name
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    return None


def _mariadb_ready(port: int) -> bool:
    """True when the server on ``port`` sends its greeting packet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            header = sock.recv(5)
    except OSError:
        return False
    # 3-byte length, 1-byte sequence, then protocol version 10 (or 0xff: an error packet)
    return len(header) == 5 and header[4] in (10, 0xFF)


@contextlib.contextmanager
def mariadb_server(database: str = "multiflexi_test") -> Iterator[str]:
    """Run a throwaway MariaDB (or MySQL) server; yield the URL of ``database`` on it.

    The URL is ``mysql+pymysql://multiflexi:<random password>@127.0.0.1:<port>/<database>
    ?charset=utf8mb4``; the ``multiflexi`` user may create further databases.
    """
    sbin = ("/usr/sbin", "/usr/libexec", "/usr/local/sbin")
    server = _which(("mariadbd", "mysqld"), sbin)
    install = _which(("mariadb-install-db", "mysql_install_db"), sbin)
    if server is None or install is None:
        unavailable("MariaDB server programs (mariadbd, mariadb-install-db) not found")
    account = _account("mysql")
    base = _private_dir("multiflexi-mariadb-", account)
    process: subprocess.Popen[bytes] | None = None
    try:
        data = base / "data"
        _run(
            [
                install,
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            account,
            base,
            "mariadb-install-db",
        )
        password = secrets.token_hex(16)
        init = base / "init.sql"
        init.write_text(
            f"CREATE DATABASE IF NOT EXISTS `{database}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
            f"CREATE USER IF NOT EXISTS 'multiflexi'@'%' IDENTIFIED BY '{password}';\n"
            "GRANT ALL PRIVILEGES ON *.* TO 'multiflexi'@'%';\n"
        )
        if account.uid is not None and account.gid is not None:
            os.chown(init, account.uid, account.gid)
        port = free_port()
        log = base / "mariadbd.log"
        process = _start(
            [
                server,
                "--no-defaults",
                f"--datadir={data}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--socket={base / 'mariadbd.sock'}",
                f"--pid-file={base / 'mariadbd.pid'}",
                f"--log-error={log}",
                f"--init-file={init}",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-doublewrite=0",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--max-connections=50",
            ],
            account,
            base,
            log,
        )
        _wait_until(lambda: _mariadb_ready(port), process, log, "mariadbd")
        yield (f"mysql+pymysql://multiflexi:{password}@127.0.0.1:{port}/{database}?charset=utf8mb4")
    finally:
        if process is not None:
            _stop(process, signal.SIGTERM)
        shutil.rmtree(base, ignore_errors=True)


# -- databases on a running server -------------------------------------------------------


def new_database(server_url: str, prefix: str = "mf") -> str:
    """Create an empty database with a unique name on the server of ``server_url``.

    Works with the URLs of :func:`postgresql_server` and :func:`mariadb_server` (for an
    SQLite URL there is nothing to create: use a new file instead). Returns its URL.
    """
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if url.get_backend_name() == "postgresql":
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                connection.execute(
                    text(
                        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    """Drop the database named in ``database_url`` (made by :func:`new_database`)."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    url = make_url(database_url)
    name = url.database
    if not name:
        raise ValueError("the URL names no database")
    admin = url.set(database="postgres" if url.get_backend_name() == "postgresql" else "")
    engine = create_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            quote = '"' if url.get_backend_name() == "postgresql" else "`"
            suffix = " WITH (FORCE)" if quote == '"' else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}{suffix}"))
    finally:
        engine.dispose()
