"""Start-up of a database command of the CLI: ``company list --format json`` on an empty SQLite."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

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
        samples = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=env)
            samples.append((time.perf_counter() - start) * 1000)
    return {
        "unit": "ms",
        "value": round(statistics.median(samples), 1),
        "params": {
            "runs": RUNS,
            "statistic": "median",
            "argv": ["multiflexi-cli", "company", "list", "--format", "json"],
            "database": "empty SQLite file at head",
            "bytecode_cached": os.environ.get("PYTHONDONTWRITEBYTECODE") != "1",
        },
    }


MEASUREMENTS = {"cli_company_list_json_ms": cli_company_list_json}
