"""Settings: the environment wins over the env file, and every error names its variable."""

import os

import pytest
import sqlalchemy as sa

from multiflexi.core import config
from multiflexi.core.errors import ConfigurationError


def load(tmp_path, env_file_text=None, **environ):
    env_file = os.devnull
    if env_file_text is not None:
        env_file = tmp_path / "multiflexi.env"
        env_file.write_text(env_file_text)
    environ.setdefault("MULTIFLEXI_DATA_DIR", str(tmp_path))
    return config.load_settings(env_file=env_file, environ=environ)


def test_defaults_are_an_sqlite_file_in_the_data_dir_and_local_redis(tmp_path):
    settings = load(tmp_path, MULTIFLEXI_TIMEZONE="Europe/Prague")
    assert settings.database_url == f"sqlite:///{tmp_path / 'multiflexi.sqlite'}"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.timezone == "Europe/Prague"
    # the jobs' work directories are beside the data directory, never inside it
    assert settings.tmp_dir == tmp_path.with_name(f"{tmp_path.name}-jobs")
    assert not settings.tmp_dir.is_relative_to(settings.data_dir)
    assert settings.master_key is None


def test_process_environment_wins_over_the_env_file(tmp_path):
    settings = load(
        tmp_path,
        "REDIS_URL=redis://file:6379/1\nMULTIFLEXI_TIMEZONE=America/New_York\n"
        "ENCRYPTION_MASTER_KEY=from-the-file-0123456789abcdef0123\n",
        REDIS_URL="redis://process:6379/2",
    )
    assert settings.redis_url == "redis://process:6379/2"
    assert settings.timezone == "America/New_York"
    assert settings.master_key == "from-the-file-0123456789abcdef0123"


def test_original_db_variables_build_the_url(tmp_path):
    settings = load(
        tmp_path,
        DB_CONNECTION="pgsql",
        DB_HOST="db.example",
        DB_PORT="5433",
        DB_DATABASE="multiflexi",
        DB_USERNAME="mf",
        DB_PASSWORD="pw-secret-1",
    )
    url = sa.engine.make_url(settings.database_url)
    assert (url.drivername, url.host, url.port, url.database, url.username) == (
        "postgresql+psycopg",
        "db.example",
        5433,
        "multiflexi",
        "mf",
    )
    assert "pw-secret-1" not in settings.safe_database_url
    assert "pw-secret-1" not in repr(settings)


def test_original_master_key_alias_is_honoured(tmp_path):
    settings = load(tmp_path, MULTIFLEXI_MASTER_KEY="alias-key-0123456789abcdefghijklmn")
    assert settings.require_master_key() == "alias-key-0123456789abcdefghijklmn"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"MULTIFLEXI_TIMEZONE": "Moon/Base"}, "MULTIFLEXI_TIMEZONE"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({"DB_CONNECTION": "oracle"}, "DB_CONNECTION"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(tmp_path, environ, variable):
    with pytest.raises(ConfigurationError) as info:
        load(tmp_path, **environ)
    assert info.value.variable == variable
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(variable)


def test_a_missing_master_key_is_named_when_needed(tmp_path):
    with pytest.raises(ConfigurationError, match=r"^ENCRYPTION_MASTER_KEY"):
        load(tmp_path).require_master_key()


def test_a_missing_env_file_named_on_the_command_line_is_an_error(tmp_path):
    with pytest.raises(ConfigurationError, match="--env-file"):
        config.load_settings(env_file=tmp_path / "nope.env", environ={})


def test_sqlite_engine_enforces_foreign_keys(tmp_path):
    engine = config.create_engine(f"sqlite:///{tmp_path / 'x' / 'db.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_require_schema_says_what_to_run(tmp_path):
    import multiflexi.database as database
    from multiflexi.core.errors import SchemaMismatch

    settings = load(tmp_path)
    with pytest.raises(SchemaMismatch, match="multiflexi-database upgrade"):
        config.require_schema(settings)
    database.upgrade(settings.database_url)
    config.require_schema(settings)  # at head: accepted


def test_require_schema_names_the_setting_of_an_unreachable_database(tmp_path):
    settings = load(
        tmp_path, DATABASE_URL="postgresql+psycopg://mf:Xs3cretPW@127.0.0.1:1/multiflexi"
    )
    with pytest.raises(ConfigurationError) as info:
        config.require_schema(settings)
    assert info.value.variable == "DATABASE_URL"
    assert "Xs3cretPW" not in str(info.value)


def test_require_schema_names_a_missing_sqlite_file_and_the_setting_that_chose_it(tmp_path):
    from multiflexi.core.errors import SchemaMismatch

    typo = tmp_path / "typo" / "x.sqlite"
    settings = load(tmp_path, DB_CONNECTION="sqlite", DB_DATABASE=str(typo))
    with pytest.raises(SchemaMismatch) as info:
        config.require_schema(settings)
    assert str(info.value) == (
        f"the SQLite file {typo} (named by DB_DATABASE) does not exist, "
        f"nor does its directory {typo.parent}: check DB_DATABASE"
    )
    assert not typo.parent.exists()  # nothing was created

    present = tmp_path / "present.sqlite"
    settings = load(tmp_path, DB_CONNECTION="sqlite", DB_DATABASE=str(present))
    with pytest.raises(SchemaMismatch) as info:
        config.require_schema(settings)
    assert str(info.value) == (
        f"the SQLite file {present} (named by DB_DATABASE) does not exist: check DB_DATABASE, "
        "or run `multiflexi-database upgrade` to create a new database there"
    )
    sa.create_engine(f"sqlite:///{present}").connect().close()  # an empty database file
    with pytest.raises(SchemaMismatch) as info:
        config.require_schema(settings)
    assert str(info.value) == (
        f"the SQLite file {present} (named by DB_DATABASE) has no MultiFlexi schema yet: "
        "run `multiflexi-database upgrade`"
    )


def test_require_schema_says_when_db_connection_sqlite_took_the_data_dir_default(tmp_path):
    from multiflexi.core.errors import SchemaMismatch

    settings = load(tmp_path, DB_CONNECTION="sqlite")
    with pytest.raises(SchemaMismatch) as info:
        config.require_schema(settings)
    assert str(info.value).startswith(
        f"the SQLite file {tmp_path / 'multiflexi.sqlite'} (the default in the data directory: "
        "DB_CONNECTION=sqlite, DB_DATABASE is not set) does not exist: "
        "check DB_DATABASE (not set) and MULTIFLEXI_DATA_DIR"
    )


def test_write_refusal_says_why_a_database_takes_no_writes(engine, session, database_url):
    assert config.write_refusal(session) is None
    if database_url.startswith("sqlite"):
        # a read-only connection (file modes do not bind root, the tests' usual user)
        readonly = config.create_engine(f"sqlite:///file:{engine.url.database}?mode=ro&uri=true")
        with config.session_factory(readonly)() as other:
            refusal = config.write_refusal(other)
        readonly.dispose()
    else:
        name = engine.url.database
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(
                sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
        engine.dispose()  # new connections take the setting
        try:
            refusal = config.write_refusal(session)
        finally:
            session.close()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("SET default_transaction_read_only = off"))
                connection.execute(
                    sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
                )
            engine.dispose()
    assert refusal is not None and ("readonly" in refusal or "read-only" in refusal), refusal


def test_the_session_key_is_made_once_in_the_data_directory_and_kept_private(tmp_path):
    data = tmp_path / "data"
    settings = load(tmp_path, MULTIFLEXI_DATA_DIR=str(data))
    key = config.session_key(settings)
    key_file = data / config.SESSION_KEY_FILE
    assert key_file.read_text().strip() == key and len(key) >= 48
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert config.session_key(load(tmp_path, MULTIFLEXI_DATA_DIR=str(data))) == key
    assert [p.name for p in data.iterdir()] == [config.SESSION_KEY_FILE]  # no leftovers
    # the variable wins, and then no file is made
    other = tmp_path / "other"
    chosen = load(tmp_path, MULTIFLEXI_DATA_DIR=str(other), MULTIFLEXI_SECRET_KEY="chosen")
    assert config.session_key(chosen) == "chosen"
    assert not other.exists()


def test_a_session_key_file_that_cannot_be_used_names_the_variable(tmp_path):
    (tmp_path / config.SESSION_KEY_FILE).write_text("\n")
    with pytest.raises(ConfigurationError) as empty:
        config.session_key(load(tmp_path))
    assert empty.value.variable == "MULTIFLEXI_SECRET_KEY" and "is empty" in str(empty.value)
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    with pytest.raises(ConfigurationError) as unusable:
        config.session_key(load(tmp_path, MULTIFLEXI_DATA_DIR=str(blocked / "data")))
    assert unusable.value.variable == "MULTIFLEXI_SECRET_KEY"
    assert str(blocked / "data" / config.SESSION_KEY_FILE) in str(unusable.value)
