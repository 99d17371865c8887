"""Start-up time of the command-line entry points."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time


def median_ms(argv: list[str], runs: int = 10, env: dict[str, str] | None = None) -> float:
    """Median wall time of running ``argv`` to its end, in milliseconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1)


def cli_version_startup() -> dict:
    exe = shutil.which("multiflexi-cli")
    if exe is None:
        raise SystemExit("bench: multiflexi-cli is not installed in this environment")
    return {
        "unit": "ms",
        "value": median_ms([exe, "--version"]),
        "params": {"runs": 10, "statistic": "median", "argv": ["multiflexi-cli", "--version"]},
    }


MEASUREMENTS = {"cli_version_startup": cli_version_startup}
