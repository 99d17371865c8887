"""The core's pure computations: environment assembly and next-occurrence computation."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from multiflexi.core.environment import JobContext, Variable, assemble
from multiflexi.core.schedules import Schedule, next_after

ZONES = ["Europe/Prague", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe"]
CRONS = ["30 2 * * *", "*/15 * * * 1-5", "0 6 1 * *", "0 0 29 2 *", "5 4 * * sun", "0 */2 * * *"]


def _layers() -> dict:
    application = [Variable(f"FIELD_{n:02d}", f"default-{n}") for n in range(50)]
    application[10] = Variable("FIELD_10", "https://{FIELD_11}/api/{FIELD_12}")
    application[20] = Variable("RESULT_FILE", "report_{MULTIFLEXI_JOB_ID}.json")
    application[30] = Variable("FIELD_30", "", secret=True)
    credentials = {
        f"cred{c}": [
            Variable(f"CRED{c}_FIELD_{n}", f"credential-{c}-{n}-value", secret=n % 2 == 0)
            for n in range(5)
        ]
        for c in range(3)
    }
    return {
        "application": application,
        "company": {"COMPANY_LABEL": "ACME", "FIELD_01": "company"},
        "credentials": credentials,
        "runtemplate": {f"FIELD_{n:02d}": f"configured-{n}" for n in range(0, 50, 3)},
        "overrides": {"FIELD_02": "once"},
        "context": JobContext(job_id=12345, company_id=1, company_code="acme", work_dir="/w/12345"),
        "inherited": {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "DB_PASSWORD": "x"},
    }


def environment_assembly_50_fields() -> dict:
    layers = _layers()
    template = " ".join(f"--f{n} {{FIELD_{n:02d}}}" for n in range(1, 10)) + " --out {RESULT_FILE}"
    runs = 300
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        env = assemble(**layers)
        env.render_command("/usr/bin/app", template)
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "unit": "ms",
        "value": round(statistics.median(samples), 3),
        "params": {
            "fields": 50,
            "credentials": 3,
            "credential_fields": 5,
            "runs": runs,
            "statistic": "median",
            "includes": "assemble (layers, macros, RESULT_FILE) + render_command",
        },
    }


def next_occurrence_10000() -> dict:
    rng = random.Random(10_000)
    schedules = []
    for _ in range(10_000):
        code = rng.choice("ihdwmyc")
        schedules.append(
            Schedule(
                code,
                cron=rng.choice(CRONS) if code == "c" else None,
                delay=rng.choice([0, 0, 600, 7200]),
                timezone=rng.choice(ZONES),
            )
        )
    now = dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)  # the Prague fall-back night
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        for schedule in schedules:
            next_after(schedule, now)
        samples.append(time.perf_counter() - start)
    return {
        "unit": "s",
        "value": round(statistics.median(samples), 3),
        "params": {
            "schedules": len(schedules),
            "codes": "i h d w m y c, uniformly",
            "cron_expressions": CRONS,
            "zones": ZONES,
            "runs": 3,
            "statistic": "median",
        },
    }


MEASUREMENTS = {
    "environment_assembly_50_fields": environment_assembly_50_fields,
    "next_occurrence_10000": next_occurrence_10000,
}
