"""The migration history on SQLite, PostgreSQL and MariaDB: up, down, drift, constraints."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from multiflexi.database import (
    MigrationError,
    check,
    current,
    downgrade,
    head,
    history,
    metadata,
    upgrade,
)
from multiflexi.database import api as database_api
from multiflexi.database.connect import create_engine_for
from multiflexi.database.tables import LongBinary, UTCDateTime, applications, companies, leases

FUTURE_REVISION = "f0f0f0f0f0f0"


@pytest.fixture
def engine(empty_database: str) -> Iterator[sa.Engine]:
    engine = create_engine_for(empty_database)
    yield engine
    engine.dispose()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_from_empty_to_head_and_back_to_base(empty_database: str, engine: sa.Engine):
    assert current(empty_database) is None

    assert upgrade(empty_database) == (None, head())

    assert current(empty_database) == head()
    assert table_names(engine) == set(metadata.tables) | {"alembic_version"}

    assert downgrade(empty_database, "base") == (head(), None)

    assert current(empty_database) is None
    assert table_names(engine) == {"alembic_version"}

    # and the history runs again on the emptied database
    upgrade(empty_database)
    assert current(empty_database) == head()


def test_upgrading_a_database_at_head_changes_nothing(empty_database: str):
    upgrade(empty_database)
    assert upgrade(empty_database) == (head(), head())


def test_migrated_schema_matches_the_table_definitions(empty_database: str, engine: sa.Engine):
    upgrade(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_foreign_keys_carry_the_names_of_the_naming_convention(
    empty_database: str, engine: sa.Engine
):
    upgrade(empty_database)
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        expected = {fk.name for fk in table.foreign_key_constraints}
        reflected = {fk["name"] for fk in inspector.get_foreign_keys(table.name)}
        assert reflected == expected, table.name


def test_the_database_refuses_a_duplicate_application_uuid(engine: sa.Engine, empty_database: str):
    upgrade(empty_database)
    uuid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    with engine.begin() as connection:
        connection.execute(applications.insert().values(name="first", executable="a", uuid=uuid))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(applications.insert().values(name="second", executable="b", uuid=uuid))
    with engine.connect() as connection:
        names = connection.execute(sa.select(applications.c.name)).scalars().all()
    assert names == ["first"]


def test_the_database_refuses_a_duplicate_company_slug(engine: sa.Engine, empty_database: str):
    upgrade(empty_database)
    with engine.begin() as connection:
        connection.execute(companies.insert().values(name="Acme s.r.o.", slug="acme"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(companies.insert().values(name="Acme a.s.", slug="acme"))
    with engine.connect() as connection:
        names = connection.execute(sa.select(companies.c.name)).scalars().all()
    assert names == ["Acme s.r.o."]


def test_times_come_back_aware_in_utc_with_microseconds(engine: sa.Engine, empty_database: str):
    upgrade(empty_database)
    prague = dt.timezone(dt.timedelta(hours=2))
    acquired = dt.datetime(2026, 3, 29, 2, 30, 15, 123456, tzinfo=prague)
    with engine.begin() as connection:
        connection.execute(
            leases.insert().values(
                name="scheduler", holder="host:1", acquired_at=acquired, expires_at=acquired
            )
        )
    with engine.connect() as connection:
        stored = connection.execute(sa.select(leases.c.acquired_at)).scalar_one()
    assert stored == acquired
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored.hour == 0 and stored.microsecond == 123456


def test_json_columns_keep_lists(engine: sa.Engine, empty_database: str):
    upgrade(empty_database)
    with engine.begin() as connection:
        connection.execute(
            applications.insert().values(
                name="probe", executable="probe", tags=["bank", "fio"], requirements=["Fio"]
            )
        )
    with engine.connect() as connection:
        row = connection.execute(sa.select(applications.c.tags, applications.c.requirements)).one()
    assert row.tags == ["bank", "fio"]
    assert row.requirements == ["Fio"]


def test_check_reports_an_empty_database_and_what_to_run(empty_database: str):
    status = check(empty_database)
    assert (status.state, status.ok, status.current) == ("empty", False, None)
    assert "`multiflexi-database upgrade`" in status.message


def test_check_reports_a_database_at_head(empty_database: str):
    upgrade(empty_database)
    status = check(empty_database)
    assert (status.state, status.ok, status.current, status.head) == (
        "current",
        True,
        head(),
        head(),
    )


def stamp(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_check_reports_a_database_newer_than_this_code(empty_database: str, engine: sa.Engine):
    upgrade(empty_database)
    stamp(engine, FUTURE_REVISION)

    status = check(empty_database)

    assert (status.state, status.ok, status.current) == ("ahead", False, FUTURE_REVISION)
    assert status.message.endswith(
        "this database is newer than this code: upgrade multiflexi-database"
    )


def test_migrating_a_database_newer_than_this_code_is_refused(
    empty_database: str, engine: sa.Engine
):
    upgrade(empty_database)
    stamp(engine, FUTURE_REVISION)

    with pytest.raises(MigrationError, match="newer than this code"):
        upgrade(empty_database)
    with pytest.raises(MigrationError, match="newer than this code"):
        downgrade(empty_database, "base")

    assert current(empty_database) == FUTURE_REVISION
    assert table_names(engine) == set(metadata.tables) | {"alembic_version"}


def test_an_unknown_target_revision_is_refused_and_changes_nothing(
    empty_database: str, engine: sa.Engine
):
    upgrade(empty_database)
    with pytest.raises(MigrationError, match="unknown revision 'nonesuch'"):
        downgrade(empty_database, "nonesuch")
    assert current(empty_database) == head()
    assert table_names(engine) == set(metadata.tables) | {"alembic_version"}


NEXT_REVISION = '''"""add a probe table (a test-only revision)"""

import sqlalchemy as sa
from alembic import op

revision = "0abc0abc0abc"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("probe_extra", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("probe_extra")
'''


@pytest.fixture
def newer_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pretend this code has one more migration than it ships; return the shipped head."""
    shipped = head()
    copy = tmp_path / "migrations"
    shutil.copytree(database_api.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "0abc0abc0abc_probe_extra.py").write_text(
        NEXT_REVISION.format(down=shipped)
    )
    monkeypatch.setattr(database_api, "MIGRATIONS_DIR", copy)
    return shipped


def test_check_reports_a_database_behind_this_code(
    empty_database: str, engine: sa.Engine, newer_code: str
):
    upgrade(empty_database, newer_code)
    assert "probe_extra" not in table_names(engine)

    status = check(empty_database)

    assert (status.state, status.ok, status.current, status.head) == (
        "behind",
        False,
        newer_code,
        "0abc0abc0abc",
    )
    assert status.message.endswith("run `multiflexi-database upgrade`")

    upgrade(empty_database)
    assert "probe_extra" in table_names(engine)
    assert check(empty_database).ok

    downgrade(empty_database, newer_code)
    assert "probe_extra" not in table_names(engine)
    assert current(empty_database) == newer_code


def test_history_lists_the_shipped_migrations_oldest_first():
    migrations = history()
    assert migrations[0].down_revision is None
    assert migrations[-1].revision == head()
    assert [m.is_head for m in migrations] == [False] * (len(migrations) - 1) + [True]
    for older, newer in itertools.pairwise(migrations):
        assert newer.down_revision == older.revision
    assert all(m.message for m in migrations)


@pytest.fixture
def scratch_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped history that new revisions may be written into."""
    copy = tmp_path / "migrations"
    shutil.copytree(database_api.MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(database_api, "MIGRATIONS_DIR", copy)
    return copy


@pytest.fixture
def probe_table() -> Iterator[sa.Table]:
    """A table added to the metadata for one test, as a schema change would add it."""
    table = sa.Table(
        "probe_new",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    yield table
    metadata.remove(table)


def test_a_new_revision_is_written_portably_and_runs_on_every_backend(
    empty_database: str, engine: sa.Engine, scratch_history: Path, probe_table: sa.Table
):
    shipped = head()

    path = database_api.new_revision("add probe table")

    text = path.read_text()
    assert path.parent == scratch_history / "versions"
    assert "multiflexi.database.tables" not in text  # no import of today's tables.py
    assert 'with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")' in text
    assert "server_default=sa.true()" in text
    assert head() != shipped
    assert history()[-1].down_revision == shipped

    upgrade(empty_database)
    with engine.begin() as connection:
        connection.execute(probe_table.insert().values(id=1))
        assert connection.execute(sa.select(probe_table.c.active)).scalar_one() is True
    downgrade(empty_database, shipped)
    assert "probe_new" not in table_names(engine)


@pytest.fixture
def probe_binary_table() -> Iterator[sa.Table]:
    """A table with a LongBinary column, added to the metadata for one test."""
    table = sa.Table(
        "probe_blob",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("content", LongBinary(), nullable=True),
    )
    yield table
    metadata.remove(table)


def test_a_new_revision_writes_a_long_binary_column_portably(
    empty_database: str, engine: sa.Engine, scratch_history: Path, probe_binary_table: sa.Table
):
    shipped = head()

    text = database_api.new_revision("add probe blob table").read_text()

    assert "multiflexi.database.tables" not in text
    assert 'sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")' in text
    upgrade(empty_database)
    content = bytes(range(256)) * 400  # 100 KiB: more than a MySQL BLOB holds
    with engine.begin() as connection:
        connection.execute(probe_binary_table.insert().values(id=1, content=content))
        stored = connection.execute(sa.select(probe_binary_table.c.content)).scalar_one()
    assert stored == content
    downgrade(empty_database, shipped)
    assert "probe_blob" not in table_names(engine)


def test_the_quick_check_agrees_with_alembic(tmp_path):
    from multiflexi.database import at_head, head, upgrade
    from multiflexi.database.quickcheck import head_revision

    assert head_revision() == head()
    url = f"sqlite:///{tmp_path / 'quick.sqlite'}"
    assert at_head(url) is False  # no file yet (and none is created)
    assert not (tmp_path / "quick.sqlite").exists()
    upgrade(url)
    assert at_head(url) is True
    downgrade_to_base(url)
    assert at_head(url) is False


def downgrade_to_base(url):
    from multiflexi.database import downgrade

    downgrade(url, "base")


def test_job_counts_are_filled_from_the_jobs_already_present(
    engine: sa.Engine, empty_database: str
):
    from multiflexi.database.tables import job_counts, jobs, run_templates

    upgrade(empty_database, "70a0d8714a8a")
    due = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for slug in ("acme", "globex", "idle"):
            connection.execute(companies.insert().values(name=slug.title(), slug=slug))
        ids = dict(connection.execute(sa.select(companies.c.slug, companies.c.id)).all())
        app_id = connection.execute(
            applications.insert().values(name="probe", executable="probe")
        ).inserted_primary_key[0]
        for slug, number in (("acme", 3), ("globex", 1)):
            template_id = connection.execute(
                run_templates.insert().values(
                    company_id=ids[slug], application_id=app_id, name=f"{slug} probe"
                )
            ).inserted_primary_key[0]
            for _ in range(number):
                connection.execute(
                    jobs.insert().values(
                        run_template_id=template_id,
                        company_id=ids[slug],
                        application_id=app_id,
                        scheduled_at=due,
                    )
                )

    upgrade(empty_database)

    with engine.connect() as connection:
        rows = connection.execute(sa.select(job_counts.c.company_id, job_counts.c.total)).all()
    counts = {company_id: total for company_id, total in rows}
    assert counts == {ids["acme"]: 3, ids["globex"]: 1, ids["idle"]: 0}
    # and the revision goes down again without leaving the table behind
    downgrade(empty_database, "70a0d8714a8a")
    assert "job_counts" not in table_names(engine)


@pytest.fixture
def enforcing_engine(engine: sa.Engine) -> sa.Engine:
    """The engine, with SQLite enforcing foreign keys as the core's engines do."""
    if engine.dialect.name == "sqlite":

        def foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

        sa.event.listen(engine, "connect", foreign_keys_on)
    return engine


def add_credential(connection: sa.Connection, slug: str) -> dict[str, int]:
    """A company with a credential type, a credential of it (with a value) bound to a run
    template; returns the ids."""
    from multiflexi.database.tables import (
        credential_types,
        credential_values,
        credentials,
        run_template_credentials,
        run_templates,
    )

    ids: dict[str, int] = {}
    ids["company"] = connection.execute(
        companies.insert().values(name=slug.title(), slug=slug)
    ).inserted_primary_key[0]
    ids["type"] = connection.execute(
        credential_types.insert().values(company_id=ids["company"], name=f"{slug} bank")
    ).inserted_primary_key[0]
    ids["credential"] = connection.execute(
        credentials.insert().values(
            company_id=ids["company"], credential_type_id=ids["type"], name="main"
        )
    ).inserted_primary_key[0]
    connection.execute(
        credential_values.insert().values(credential_id=ids["credential"], name="TOKEN", value="x")
    )
    app_id = connection.execute(
        applications.insert().values(name=f"{slug} probe", executable="probe")
    ).inserted_primary_key[0]
    ids["run_template"] = connection.execute(
        run_templates.insert().values(company_id=ids["company"], application_id=app_id, name="rt")
    ).inserted_primary_key[0]
    connection.execute(
        run_template_credentials.insert().values(
            run_template_id=ids["run_template"], credential_id=ids["credential"]
        )
    )
    return ids


def count_rows(engine: sa.Engine, table_name: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(metadata.tables[table_name])
        ).scalar_one()


def test_the_database_refuses_to_delete_a_credential_type_in_use(
    enforcing_engine: sa.Engine, empty_database: str
):
    from multiflexi.database.tables import credential_types, credentials

    upgrade(empty_database)
    with enforcing_engine.begin() as connection:
        ids = add_credential(connection, "acme")

    with pytest.raises(IntegrityError), enforcing_engine.begin() as connection:
        connection.execute(credential_types.delete().where(credential_types.c.id == ids["type"]))

    assert count_rows(enforcing_engine, "credential_types") == 1
    assert count_rows(enforcing_engine, "credentials") == 1
    assert count_rows(enforcing_engine, "credential_values") == 1
    assert count_rows(enforcing_engine, "run_template_credentials") == 1
    # once no credential uses it, the type goes
    with enforcing_engine.begin() as connection:
        connection.execute(credentials.delete().where(credentials.c.id == ids["credential"]))
        connection.execute(credential_types.delete().where(credential_types.c.id == ids["type"]))
    assert count_rows(enforcing_engine, "credential_types") == 0


def test_deleting_a_company_after_its_credentials_takes_everything_it_owns(
    enforcing_engine: sa.Engine, empty_database: str
):
    """The order the core deletes a company in: its credentials, then the company.

    (MariaDB checks the restriction row by row while it cascades, and may reach the
    credential types before the credentials: deleting the company alone is refused there.)
    """
    from multiflexi.database.tables import credentials

    upgrade(empty_database)
    with enforcing_engine.begin() as connection:
        doomed = add_credential(connection, "acme")
        add_credential(connection, "globex")

    with enforcing_engine.begin() as connection:
        connection.execute(
            credentials.delete().where(credentials.c.company_id == doomed["company"])
        )
        connection.execute(companies.delete().where(companies.c.id == doomed["company"]))

    for table_name in (
        "credential_types",
        "credentials",
        "credential_values",
        "run_templates",
        "run_template_credentials",
    ):
        assert count_rows(enforcing_engine, table_name) == 1, table_name


def test_credentials_survive_the_credential_type_restriction_migration(
    enforcing_engine: sa.Engine, empty_database: str
):
    from multiflexi.database.tables import credential_types

    upgrade(empty_database, "b3c1f0e2a9d4")
    with enforcing_engine.begin() as connection:
        ids = add_credential(connection, "acme")

    upgrade(empty_database, "f660da8b9b74")

    for table_name in ("credential_types", "credentials", "credential_values"):
        assert count_rows(enforcing_engine, table_name) == 1, table_name
    assert count_rows(enforcing_engine, "run_template_credentials") == 1
    with pytest.raises(IntegrityError), enforcing_engine.begin() as connection:
        connection.execute(credential_types.delete().where(credential_types.c.id == ids["type"]))
    # and down again: the old rule (cascade) comes back, the rows stay
    downgrade(empty_database, "b3c1f0e2a9d4")
    assert count_rows(enforcing_engine, "credential_values") == 1
    with enforcing_engine.begin() as connection:
        connection.execute(credential_types.delete().where(credential_types.c.id == ids["type"]))
    assert count_rows(enforcing_engine, "credentials") == 0


def test_check_names_the_database_that_has_no_schema(empty_database: str, engine: sa.Engine):
    url = sa.make_url(empty_database)
    engine.connect().close()  # SQLite: the file exists, empty
    status = check(empty_database)
    if url.get_backend_name() == "sqlite":
        expected = f"the SQLite file {url.database}"
    else:
        expected = f"the database {url.database!r} on {url.host}:{url.port}"
    assert status.message == (
        f"{expected} has no MultiFlexi schema yet: run `multiflexi-database upgrade`"
    )
    assert url.password is None or url.password not in status.message


MISSING_FILE_CASES = [
    (
        {"DB_CONNECTION": "sqlite", "DB_DATABASE": "{tmp}/typo/x.sqlite"},
        "the SQLite file {tmp}/typo/x.sqlite (named by DB_DATABASE) does not exist, "
        "nor does its directory {tmp}/typo: check DB_DATABASE",
    ),
    (
        {"DB_CONNECTION": "sqlite", "DB_DATABASE": "{tmp}/x.sqlite"},
        "the SQLite file {tmp}/x.sqlite (named by DB_DATABASE) does not exist: check "
        "DB_DATABASE, or run `multiflexi-database upgrade` to create a new database there",
    ),
    (
        {"DB_CONNECTION": "sqlite"},
        "the SQLite file {tmp}/data/multiflexi.sqlite (the default in the data directory: "
        "DB_CONNECTION=sqlite, DB_DATABASE is not set) does not exist, nor does its directory "
        "{tmp}/data: check DB_DATABASE (not set) and MULTIFLEXI_DATA_DIR",
    ),
    (
        {"DATABASE_URL": "sqlite:///{tmp}/x.sqlite"},
        "the SQLite file {tmp}/x.sqlite (named by DATABASE_URL) does not exist: check "
        "DATABASE_URL, or run `multiflexi-database upgrade` to create a new database there",
    ),
    (
        {},
        "the SQLite file {tmp}/data/multiflexi.sqlite (the default in the data directory: "
        "neither DATABASE_URL nor DB_CONNECTION is set) does not exist yet: "
        "run `multiflexi-database upgrade` to create it",
    ),
]


@pytest.mark.parametrize(("environ", "message"), MISSING_FILE_CASES)
def test_check_of_a_missing_sqlite_file_names_it_and_the_setting_that_chose_it(
    tmp_path: Path, environ: dict[str, str], message: str
):
    from multiflexi.database import database_settings

    env = {k: v.format(tmp=tmp_path) for k, v in environ.items()}
    settings = database_settings({"MULTIFLEXI_DATA_DIR": str(tmp_path / "data"), **env})

    status = check(settings)

    assert (status.state, status.ok, status.current) == ("empty", False, None)
    assert status.message == message.format(tmp=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_check_of_a_missing_sqlite_file_by_url_names_the_file(tmp_path: Path):
    status = check(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert status.state == "empty"
    assert status.message == (
        f"the SQLite file {tmp_path / 'x.sqlite'} does not exist: check the database setting, "
        "or run `multiflexi-database upgrade` to create a new database there"
    )
    assert not (tmp_path / "x.sqlite").exists()
