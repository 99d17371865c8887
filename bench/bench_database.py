"""Time to migrate an empty SQLite database to the head of the schema history."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

RUNS = 5


def database_migrate_sqlite() -> dict:
    from multiflexi.database import head, upgrade

    samples = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'multiflexi.sqlite'}"
            start = time.perf_counter()
            upgrade(url)
            samples.append(time.perf_counter() - start)
    return {
        "unit": "s",
        "value": round(statistics.median(samples), 4),
        "params": {
            "runs": RUNS,
            "statistic": "median",
            "from": "empty file",
            "to": head(),
            "excludes": "imports (measured in-process after the first import)",
        },
    }


MEASUREMENTS = {"database_migrate_sqlite": database_migrate_sqlite}
