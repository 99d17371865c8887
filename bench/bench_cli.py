"""Start-up of a database command of the CLI: ``company list --format json`` on an empty SQLite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_startup import median_ms

RUNS = 10


def cli_company_list_json() -> dict:
    from multiflexi.database import upgrade

    exe = shutil.which("multiflexi-cli")
    if exe is None:
        raise SystemExit("bench: multiflexi-cli is not installed in this environment")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'multiflexi.sqlite'}"
        upgrade(url)
        env = {**os.environ, "DATABASE_URL": url, "MULTIFLEXI_DATA_DIR": tmp}
        argv = [exe, "company", "list", "--format", "json"]
        subprocess.run(argv, check=True, capture_output=True, env=env)  # warm the file cache
        samples = median_ms(argv, RUNS, env)
        # what no CLI built on click and SQLAlchemy can start faster than here: the
        # interpreter importing both (the rest is MultiFlexi's own share)
        floor = median_ms([sys.executable, "-c", "import click, sqlalchemy.orm"], RUNS, env)
    return {
        "unit": "ms",
        "value": samples,
        "params": {
            "runs": RUNS,
            "statistic": "median",
            "argv": ["multiflexi-cli", "company", "list", "--format", "json"],
            "database": "empty SQLite file at head",
            "bytecode_cached": _bytecode_cached(),
            "floor_python_import_click_sqlalchemy_orm_ms": floor,
            "multiflexi_share_ms": round(samples - floor, 1),
        },
    }


def _bytecode_cached() -> bool:
    """Whether the installed CLI has compiled bytecode (pip compiles it; uv only when asked)."""
    import importlib.util

    import multiflexi.cli.main

    return Path(importlib.util.cache_from_source(multiflexi.cli.main.__file__)).exists()


MEASUREMENTS = {"cli_company_list_json_ms": cli_company_list_json}
