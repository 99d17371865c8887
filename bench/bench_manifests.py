"""How fast manifests are read and normalised, and imported into a database."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import models
from multiflexi.core.audit import Actor
from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests import import_manifest, parse_manifest

APPS = Path(__file__).resolve().parent.parent / "multiflexi-core" / "tests" / "fixtures" / "apps"
ROUNDS = 5


def _accepted() -> list[tuple[str, bytes]]:
    """The fixture manifests MultiFlexi accepts, as the bytes of their files."""
    found = []
    for path in sorted(APPS.iterdir()):
        data = path.read_bytes()
        try:
            parse_manifest(data)
        except ValidationError:
            continue
        found.append((path.name, data))
    return found


def manifest_normalise_rate() -> dict:
    """Manifests per second through parse_manifest (JSON, legacy rewrite, schema, dataclasses)."""
    manifests = _accepted()
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _name, data in manifests:
            parse_manifest(data)
        rates.append(len(manifests) / (time.perf_counter() - start))
    return {
        "unit": "manifests/s",
        "value": round(statistics.median(rates), 1),
        "params": {"manifests": len(manifests), "rounds": ROUNDS, "statistic": "median"},
    }


def manifest_import_rate() -> dict:
    """Manifests per second imported (one transaction each) into a fresh SQLite file."""
    manifests = _accepted()
    actor = Actor.system("bench")
    rates = []
    for _ in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            engine = sa.create_engine(f"sqlite:///{tmp}/bench.sqlite")
            models.Base.metadata.create_all(engine)
            with Session(engine, expire_on_commit=False) as session:
                start = time.perf_counter()
                for _name, data in manifests:
                    import_manifest(session, data, actor=actor)
                rates.append(len(manifests) / (time.perf_counter() - start))
            engine.dispose()
    return {
        "unit": "manifests/s",
        "value": round(statistics.median(rates), 1),
        "params": {
            "manifests": len(manifests),
            "rounds": ROUNDS,
            "statistic": "median",
            "database": "sqlite file, fresh each round",
        },
    }


MEASUREMENTS = {
    "manifest_normalise_rate": manifest_normalise_rate,
    "manifest_import_rate": manifest_import_rate,
}
