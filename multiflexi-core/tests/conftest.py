"""Shared fixtures of the core's tests: a real SQLite database per test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from multiflexi.core import models
from sqlalchemy.orm import Session


def _sqlite_foreign_keys(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'multiflexi.sqlite'}")
    sa.event.listen(engine, "connect", _sqlite_foreign_keys)
    models.Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s


def count(session: Session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
