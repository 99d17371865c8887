"""Run the measurements of bench/ and write bench/results/NAME.json for each.

    python bench/run.py            every measurement
    python bench/run.py NAME ...   only those (see --list)

Each bench_*.py module exports MEASUREMENTS: {name: callable}. A callable
returns a dict with at least "unit" and "value", and may add "params",
"baseline_name" and "baseline_value" when it measures a peer side by side.
These are measurements, not tests: nothing here passes or fails on a number.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def discover() -> dict[str, Callable[[], dict[str, Any]]]:
    found: dict[str, Callable[[], dict[str, Any]]] = {}
    sys.path.insert(0, str(HERE))
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        for name, func in module.MEASUREMENTS.items():
            if name in found:
                raise SystemExit(f"bench: measurement {name!r} is defined twice")
            found[name] = func
    return found


def record(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    baseline = raw.get("baseline_value")
    value = raw["value"]
    result = {
        "name": name,
        "unit": raw["unit"],
        "value": value,
        "baseline_name": raw.get("baseline_name"),
        "baseline_value": baseline,
        "ratio": (value / baseline) if baseline else None,
        "params": raw.get("params", {}),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.system()} {platform.release()}",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="measurements to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the measurements and stop")
    args = parser.parse_args(argv)
    available = discover()
    if args.list:
        print("\n".join(sorted(available)))
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        print(
            f"bench: unknown measurement(s): {', '.join(unknown)}; known: "
            f"{', '.join(sorted(available))}",
            file=sys.stderr,
        )
        return 2
    for name in args.names or sorted(available):
        result = record(name, available[name]())
        extra = (
            f" (baseline {result['baseline_value']}, ratio {result['ratio']:.2f})"
            if result["baseline_value"]
            else ""
        )
        print(f"{name}: {result['value']} {result['unit']}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
