"""What a command loads before it answers: only what it uses (start-up time of every call).

Each case runs the command in a fresh interpreter and lists the modules loaded when it
ends. Nothing here measures time; it keeps modules that cost start-up time out of
commands that never use them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN_AND_LIST_MODULES = """
import atexit, json, sys
report = sys.argv[1]
def _report():
    with open(report, "w") as file:
        json.dump(sorted(sys.modules), file)
atexit.register(_report)
from multiflexi.cli.main import main
sys.argv = ["multiflexi-cli", *sys.argv[2:]]
main()
"""
#: loaded only by the commands that use them
ON_DEMAND = (
    "alembic",
    "croniter",
    "cryptography",
    "jsonschema",
    "multiflexi.core.crypto",
    "redis",
    "rich",
    "rq",
    "sqlalchemy.dialects.mysql",
    "yaml",
)


def loaded_by(env: dict[str, str], tmp_path: Path, *args: str) -> tuple[str, set[str]]:
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST_MODULES, str(report), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, set(json.loads(report.read_text()))


def top_level(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


@pytest.mark.parametrize(
    "args", [("--version",), ("company", "--help"), ("job", "--help"), ("--help",)]
)
def test_version_and_help_load_neither_sqlalchemy_nor_the_core(env, tmp_path, args):
    out, modules = loaded_by(env, tmp_path, *args)
    assert out
    assert top_level(modules, ("sqlalchemy", "multiflexi.core", *ON_DEMAND)) == []


def test_a_database_command_loads_no_module_it_does_not_use(env, tmp_path):
    out, modules = loaded_by(env, tmp_path, "company", "list", "--format", "json")
    assert json.loads(out) == []
    assert "sqlalchemy.orm" in modules
    assert top_level(modules, ON_DEMAND) == []
