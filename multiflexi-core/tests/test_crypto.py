"""Secrets at rest: tokens, the key ring in the database, rotation, master key change."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core.crypto import (
    WRONG_MASTER_KEY,
    KeyRing,
    MasterKey,
    change_master_key,
    column_context,
    init_keyring,
    is_token,
    key_id_of,
    master_key_from_env,
    rotate,
)
from multiflexi.core.errors import ConfigurationError, DecryptionError
from multiflexi.database.tables import ENCRYPTED_COLUMNS, UTCDateTime, encryption_keys, metadata

MASTER = "correct horse battery staple, 40 chars!"
OTHER_MASTER = "a completely different master key, also long enough"
CONTEXT = "credential_values.value"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[sa.Engine, Path]]:
    """A real SQLite file with every table (foreign keys not enforced: rows stand alone)."""
    path = tmp_path / "secrets.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    yield engine, path
    engine.dispose()


@pytest.fixture
def ring(db) -> KeyRing:
    engine, _ = db
    with engine.begin() as connection:
        return init_keyring(connection, MASTER)


_serial = itertools.count(1)


def minimal_row(table: sa.Table, **values: object) -> dict[str, object]:
    """`values` plus a filler for every NOT NULL column that has no default."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.primary_key or column.nullable:
            continue
        if column.default is not None or column.server_default is not None:
            continue
        if isinstance(column.type, UTCDateTime):
            row[column.name] = dt.datetime.now(dt.UTC)
        elif isinstance(column.type, sa.Boolean):
            row[column.name] = False
        elif isinstance(column.type, sa.Integer):
            row[column.name] = 1
        elif isinstance(column.type, sa.JSON):
            row[column.name] = {}
        else:
            row[column.name] = f"filler-{next(_serial)}"
    return row


def store_secrets(engine: sa.Engine, ring: KeyRing) -> dict[tuple[str, int], str]:
    """Two sealed values and one plain value in every encrypted column; returns the plaintexts."""
    stored = {}
    with engine.begin() as connection:
        for table_name, column, key_column in ENCRYPTED_COLUMNS:
            table = metadata.tables[table_name]
            for n in range(2):
                plain = f"plaintext-{table_name}-{n}-Ünïcödé-s3cr3t"
                token = ring.encrypt(plain, column_context(table_name, column))
                row = minimal_row(table, **{column: token, key_column: key_id_of(token)})
                if "name" in table.c:
                    row["name"] = f"SECRET_{n}"
                if "mode" in table.c:  # run_template_actions: one of its two lists
                    row["mode"] = "success"
                result = connection.execute(sa.insert(table).values(row))
                stored[(table_name, result.inserted_primary_key[0])] = plain
            plain_row = minimal_row(table, **{column: "visible-plain-value", key_column: None})
            if "name" in table.c:
                plain_row["name"] = "PLAIN"
            if "mode" in table.c:
                plain_row["mode"] = "failure"
            connection.execute(sa.insert(table).values(plain_row))
    return stored


def snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        names = ["encryption_keys", *(t for t, _, _ in ENCRYPTED_COLUMNS)]
        return {
            name: [tuple(r) for r in connection.execute(sa.select(metadata.tables[name]))]
            for name in names
        }


def all_text(engine: sa.Engine) -> str:
    """Every value of every table, as one string."""
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        )


# --- the master key ---------------------------------------------------------------


def test_master_key_comes_from_the_variable_or_its_alias():
    primary = master_key_from_env({"ENCRYPTION_MASTER_KEY": MASTER})
    alias = master_key_from_env({"MULTIFLEXI_MASTER_KEY": MASTER})
    both = master_key_from_env({"ENCRYPTION_MASTER_KEY": MASTER, "MULTIFLEXI_MASTER_KEY": "x" * 40})
    assert primary.fingerprint == alias.fingerprint == both.fingerprint
    assert master_key_from_env({"ENCRYPTION_MASTER_KEY": OTHER_MASTER}).fingerprint != (
        primary.fingerprint
    )


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({}, "ENCRYPTION_MASTER_KEY"),
        ({"ENCRYPTION_MASTER_KEY": "short-secret-value"}, "ENCRYPTION_MASTER_KEY"),
        ({"MULTIFLEXI_MASTER_KEY": "short-secret-value"}, "MULTIFLEXI_MASTER_KEY"),
        ({"ENCRYPTION_MASTER_KEY": "x" * 31}, "ENCRYPTION_MASTER_KEY"),
    ],
)
def test_a_missing_or_short_master_key_is_refused_naming_the_variable(environ, variable):
    with pytest.raises(ConfigurationError) as caught:
        master_key_from_env(environ)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")
    assert "short-secret-value" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_no_repr_shows_key_material(ring: KeyRing):
    master = MasterKey(MASTER)
    active = ring.active
    for text in (repr(master), repr(ring), repr(active), repr(ring.keys)):
        assert MASTER not in text
        assert active.material.hex() not in text
        assert repr(active.material) not in text


# --- tokens -----------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["s3cr3t", "", "Žluťoučký kůň ✓", "x" * 10_000, "a\nb\0c"])
def test_round_trip(ring: KeyRing, plaintext: str):
    token = ring.encrypt(plaintext, CONTEXT)
    assert is_token(token)
    assert token.startswith(f"mfx1:{ring.active.key_id}:")
    assert key_id_of(token) == ring.active.key_id
    assert ring.decrypt(token, CONTEXT) == plaintext
    if plaintext:
        assert plaintext not in token


def test_the_same_value_seals_differently_each_time(ring: KeyRing):
    assert ring.encrypt("same", CONTEXT) != ring.encrypt("same", CONTEXT)


def test_a_token_moved_to_another_column_does_not_decrypt(ring: KeyRing):
    token = ring.encrypt("s3cr3t", "credential_values.value")
    with pytest.raises(DecryptionError, match=r"company_environment\.value"):
        ring.decrypt(token, "company_environment.value")


def test_every_tampered_token_fails_and_never_returns_garbage(ring: KeyRing):
    token = ring.encrypt("the plaintext", CONTEXT)
    head, body = token.rsplit(":", 1)
    tampered = []
    for position in range(len(body)):
        replacement = "A" if body[position] != "A" else "B"
        tampered.append(f"{head}:{body[:position]}{replacement}{body[position + 1 :]}")
    tampered += [f"{head}:{body[:-4]}", f"{head}:{body[:20]}", f"{head}:", token + "=="]
    tampered += ["plain text", "mfx1::abc", "mfx2" + token[4:], f"mfx1:{'f' * 16}:{body}"]
    for bad in tampered:
        with pytest.raises(DecryptionError) as caught:
            ring.decrypt(bad, CONTEXT)
        assert "the plaintext" not in str(caught.value)


def test_key_id_of_refuses_a_non_token():
    assert not is_token("hunter2")
    with pytest.raises(DecryptionError, match="not an encrypted"):
        key_id_of("hunter2")


# --- the key ring in the database -------------------------------------------------


def test_init_keyring_creates_one_key_and_is_idempotent(db):
    engine, _ = db
    with engine.begin() as connection:
        first = init_keyring(connection, MASTER)
    with engine.begin() as connection:
        again = init_keyring(connection, MASTER)
    assert [k.key_id for k in first.keys] == [k.key_id for k in again.keys]
    with engine.connect() as connection:
        rows = connection.execute(sa.select(encryption_keys)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["version"] == 1 and rows[0]["is_active"]
    assert rows[0]["algorithm"] == "AES-256-GCM"
    assert rows[0]["retired_at"] is None
    assert rows[0]["created_at"].tzinfo is not None


def test_without_an_open_transaction_the_functions_commit_their_own_work(db):
    engine, _ = db
    with engine.connect() as connection:
        created = init_keyring(connection, MASTER)
    with engine.connect() as connection:
        rotated = rotate(connection, MASTER)
    with engine.connect() as connection:
        loaded = KeyRing.load(connection, MASTER)
    assert [k.key_id for k in loaded.keys] == [created.active.key_id, rotated.active.key_id]
    assert loaded.active.key_id == rotated.active.key_id


def test_the_ring_works_through_an_orm_session(db):
    engine, _ = db
    with Session(engine) as session:
        ring = init_keyring(session, MASTER)
        session.commit()
    token = ring.encrypt("via session", CONTEXT)
    with engine.connect() as connection:
        assert KeyRing.load(connection, MASTER).decrypt(token, CONTEXT) == "via session"


def test_loading_an_empty_database_says_what_to_do(db):
    engine, _ = db
    with engine.connect() as connection, pytest.raises(ConfigurationError, match="no encryption"):
        KeyRing.load(connection, MASTER)


def test_a_wrong_master_key_is_detected_up_front(db, ring: KeyRing):
    engine, _ = db
    before = snapshot(engine)
    for action in (
        lambda c: KeyRing.load(c, OTHER_MASTER),
        lambda c: init_keyring(c, OTHER_MASTER),
        lambda c: rotate(c, OTHER_MASTER),
        lambda c: change_master_key(c, OTHER_MASTER, MASTER),
    ):
        with engine.begin() as connection, pytest.raises(DecryptionError) as caught:
            action(connection)
        assert str(caught.value) == WRONG_MASTER_KEY
    assert snapshot(engine) == before


def test_a_damaged_wrapped_key_is_reported(db, ring: KeyRing):
    engine, _ = db
    with engine.begin() as connection:
        row = connection.execute(sa.select(encryption_keys.c.wrapped_key)).scalar_one()
        damaged = row[:-2] + ("AA" if row[-2:] != "AA" else "BB")
        connection.execute(sa.update(encryption_keys).values(wrapped_key=damaged))
    with engine.connect() as connection, pytest.raises(DecryptionError, match="is damaged"):
        KeyRing.load(connection, MASTER)


# --- rotation ---------------------------------------------------------------------


def test_rotation_re_encrypts_every_sealed_value_and_retires_the_old_key(db, ring: KeyRing):
    engine, _ = db
    stored = store_secrets(engine, ring)
    old_key = ring.active.key_id
    before = snapshot(engine)
    old_tokens = [
        value for rows in before.values() for row in rows for value in row if is_token(value)
    ]
    assert len(old_tokens) == 2 * len(ENCRYPTED_COLUMNS)

    with engine.begin() as connection:
        new_ring = rotate(connection, MASTER)
    new_key = new_ring.active.key_id
    assert new_key != old_key

    dump = all_text(engine)
    for token in old_tokens:
        assert token not in dump
    with engine.connect() as connection:
        loaded = KeyRing.load(connection, MASTER)
        for table_name, column, key_column in ENCRYPTED_COLUMNS:
            table = metadata.tables[table_name]
            rows = connection.execute(sa.select(table)).mappings().all()
            sealed = [r for r in rows if r[key_column] is not None]
            assert len(sealed) == 2
            for row in sealed:
                assert row[key_column] == new_key
                assert key_id_of(row[column]) == new_key
                context = column_context(table_name, column)
                assert loaded.decrypt(row[column], context) == stored[(table_name, row["id"])]
            assert [r[column] for r in rows if r[key_column] is None] == ["visible-plain-value"]
        keys = connection.execute(sa.select(encryption_keys)).mappings().all()
    states = {
        k["key_id"]: (k["version"], k["is_active"], k["retired_at"] is not None) for k in keys
    }
    assert states == {old_key: (1, False, True), new_key: (2, True, False)}
    # the retired key is kept: an older copy of a value (a backup, an export) still opens
    assert loaded.decrypt(old_tokens[0], column_context(*ENCRYPTED_COLUMNS[0][:2])).startswith(
        "plaintext-"
    )
    assert loaded.active.key_id != old_key


def test_rotating_twice_keeps_every_value_readable(db, ring: KeyRing):
    engine, _ = db
    stored = store_secrets(engine, ring)
    for _ in range(2):
        with engine.begin() as connection:
            latest = rotate(connection, MASTER)
    assert [k.version for k in latest.keys] == [1, 2, 3]
    assert [k.active for k in latest.keys] == [False, False, True]
    table_name, column, _ = ENCRYPTED_COLUMNS[-1]
    table = metadata.tables[table_name]
    with engine.connect() as connection:
        for row_id, token in connection.execute(sa.select(table.c.id, table.c[column])):
            if (table_name, row_id) in stored:
                context = column_context(table_name, column)
                assert latest.decrypt(token, context) == stored[(table_name, row_id)]


def test_a_damaged_value_stops_the_rotation_and_changes_nothing(db, ring: KeyRing):
    engine, _ = db
    store_secrets(engine, ring)
    table_name, column, key_column = ENCRYPTED_COLUMNS[-1]
    table = metadata.tables[table_name]
    with engine.begin() as connection:
        row_id, token = connection.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[key_column].is_not(None))
        ).first()
        connection.execute(
            sa.update(table).where(table.c.id == row_id).values({column: token[:-3] + "xyz"})
        )
    before = snapshot(engine)
    with engine.begin() as connection, pytest.raises(DecryptionError) as caught:
        rotate(connection, MASTER)
    assert str(caught.value).startswith(f"{table_name} row {row_id}: ")
    assert snapshot(engine) == before


def test_rotation_inside_the_callers_transaction_rolls_back_with_it(db, ring: KeyRing):
    engine, _ = db
    store_secrets(engine, ring)
    before = snapshot(engine)
    with pytest.raises(RuntimeError), engine.connect() as connection, connection.begin():
        rotate(connection, MASTER)
        raise RuntimeError("the caller's action failed after the rotation")
    assert snapshot(engine) == before


# --- master key change ------------------------------------------------------------


def test_changing_the_master_key_re_wraps_the_keys(db, ring: KeyRing):
    engine, _ = db
    stored = store_secrets(engine, ring)
    with engine.begin() as connection:
        rotate(connection, MASTER)  # two keys now, both must be re-wrapped
    with engine.begin() as connection:
        change_master_key(connection, MASTER, OTHER_MASTER)
    with engine.connect() as connection:
        with pytest.raises(DecryptionError, match=WRONG_MASTER_KEY):
            KeyRing.load(connection, MASTER)
        ring_now = KeyRing.load(connection, OTHER_MASTER)
        assert len(ring_now.keys) == 2
        table_name, column, _ = ENCRYPTED_COLUMNS[0]
        table = metadata.tables[table_name]
        for row_id, token in connection.execute(sa.select(table.c.id, table.c[column])):
            if (table_name, row_id) in stored:
                context = column_context(table_name, column)
                assert ring_now.decrypt(token, context) == stored[(table_name, row_id)]
    with engine.begin() as connection, pytest.raises(ConfigurationError, match="at least 32"):
        change_master_key(connection, OTHER_MASTER, "too short")


# --- nothing in the clear ---------------------------------------------------------


def test_no_plaintext_in_the_database_file(db, ring: KeyRing):
    engine, path = db
    stored = store_secrets(engine, ring)
    with engine.begin() as connection:
        rotate(connection, MASTER)
    with engine.begin() as connection:
        change_master_key(connection, MASTER, OTHER_MASTER)
    engine.dispose()
    raw = path.read_bytes()
    assert b"visible-plain-value" in raw  # the search does find what is stored in the clear
    for plaintext in stored.values():
        assert plaintext.encode("utf-8") not in raw
        assert b"s3cr3t" not in raw
    for master in (MASTER, OTHER_MASTER):
        assert master.encode("utf-8") not in raw


def test_a_changed_last_character_never_decrypts(ring: KeyRing):
    # the last character of unpadded base64 has spare bits: every variant must fail,
    # not only those that happen to change the decoded bytes
    for plaintext in ("a", "ab", "abc", "the plaintext", "x" * 31):
        token = ring.encrypt(plaintext, CONTEXT)
        head, body = token.rsplit(":", 1)
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        for char in alphabet.replace(body[-1], ""):
            with pytest.raises(DecryptionError):
                ring.decrypt(f"{head}:{body[:-1]}{char}", CONTEXT)
