"""Secrets at rest: the master key, the key ring, value tokens, rotation.

Design (ARCHITECTURE invariant 7):

* The master key (ENCRYPTION_MASTER_KEY, alias MULTIFLEXI_MASTER_KEY; at least 32
  characters, meant to be random) never touches the database. From it we derive a
  key-encryption key, KEK = HKDF-SHA256(master, our salt, our info).
* Data keys are random 32-byte AES-256-GCM keys, stored in ``encryption_keys``
  wrapped by the KEK (AES-256-GCM, nonce || ciphertext || tag in base64url, AAD =
  the key id), next to a fingerprint of the master key (HMAC-SHA256 of a constant
  under the KEK, 16 hex digits). A wrong master key is thus reported up front.
* A value is stored as a token ``mfx1:<key_id>:<base64url(nonce || ciphertext || tag)>``,
  AES-256-GCM under the data key with AAD = a context string. The context of a
  column listed in ``ENCRYPTED_COLUMNS`` is ``"<table>.<column>"`` (see
  :func:`column_context`): a token copied into another column does not decrypt.
* :func:`rotate` makes a new active key, re-encrypts every sealed value under it
  and retires the old key (kept, so it still decrypts older copies);
  :func:`change_master_key` re-wraps the data keys under a new master key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from multiflexi.core.errors import ConfigurationError, Conflict, DecryptionError
from multiflexi.core.texts import msg
from multiflexi.database.tables import ENCRYPTED_COLUMNS, encryption_keys, metadata, utc_now

#: the variable that holds the master key, and the original's alias for it
MASTER_KEY_VARIABLES = ("ENCRYPTION_MASTER_KEY", "MULTIFLEXI_MASTER_KEY")
MIN_MASTER_KEY_LENGTH = 32
ALGORITHM = "AES-256-GCM"
TOKEN_PREFIX = "mfx1"  # noqa: S105 - a format tag, not a password
WRONG_MASTER_KEY = "ENCRYPTION_MASTER_KEY does not match the key that encrypted this database"

_KEK_SALT = b"multiflexi-python/kek-salt/v1"
_KEK_INFO = b"multiflexi-python/key-encryption-key/v1 encryption_keys.wrapped_key"
_FINGERPRINT_INFO = b"multiflexi-python/master-key-fingerprint/v1"
_NONCE = 12
_TAG = 16
_TOKEN = re.compile(rf"{TOKEN_PREFIX}:(?P<key>[A-Za-z0-9_-]{{1,64}}):(?P<body>[A-Za-z0-9_-]+)")

Connectable = sa.Connection | Session


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict: only the canonical unpadded encoding is accepted.

    The last character of unpadded base64 carries spare bits; without this
    check two different tokens would decode to the same bytes, so a changed
    token could still decrypt.
    """
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:
        raise binascii.Error("not canonical base64url")
    return data


# --- the master key -----------------------------------------------------------------


class MasterKey:
    """The key-encryption key derived from the master key. Keeps no copy of the master key."""

    __slots__ = ("_kek", "fingerprint")

    def __init__(self, master_key: str, variable: str = MASTER_KEY_VARIABLES[0]) -> None:
        if not isinstance(master_key, str) or len(master_key) < MIN_MASTER_KEY_LENGTH:
            raise ConfigurationError(
                variable, f"must be at least {MIN_MASTER_KEY_LENGTH} characters long"
            )
        kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=_KEK_SALT, info=_KEK_INFO).derive(
            master_key.encode("utf-8")
        )
        self._kek = AESGCM(kek)
        #: short public fingerprint of the master key, stored beside each wrapped key
        self.fingerprint = hmac.new(kek, _FINGERPRINT_INFO, hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(fingerprint={self.fingerprint!r})"

    def wrap(self, key_id: str, material: bytes) -> str:
        """A data key sealed by the KEK, bound to its key id."""
        nonce = os.urandom(_NONCE)
        return _b64encode(nonce + self._kek.encrypt(nonce, material, key_id.encode("ascii")))

    def unwrap(self, key_id: str, wrapped: str) -> bytes:
        """The data key, or DecryptionError when the wrapped form does not verify."""
        try:
            blob = _b64decode(wrapped)
            material = self._kek.decrypt(blob[:_NONCE], blob[_NONCE:], key_id.encode("ascii"))
        except (InvalidTag, ValueError, binascii.Error, UnicodeEncodeError):
            raise DecryptionError(f"encryption key {key_id} is damaged") from None
        if len(material) != 32:
            raise DecryptionError(f"encryption key {key_id} is damaged")
        return material


def master_key_from_env(environ: Mapping[str, str] | None = None) -> MasterKey:
    """The master key from ENCRYPTION_MASTER_KEY (or MULTIFLEXI_MASTER_KEY when that is unset)."""
    env = os.environ if environ is None else environ
    for variable in MASTER_KEY_VARIABLES:
        value = env.get(variable)
        if value:
            return MasterKey(value, variable)
    raise ConfigurationError(
        MASTER_KEY_VARIABLES[0],
        f"is not set (nor its alias {MASTER_KEY_VARIABLES[1]}); secrets cannot be protected",
    )


def _master(master_key: MasterKey | str) -> MasterKey:
    return master_key if isinstance(master_key, MasterKey) else MasterKey(master_key)


# --- data keys, the ring and tokens ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataKey:
    """One data key of the ring. Its material never shows in a repr."""

    key_id: str
    version: int
    active: bool
    material: bytes = field(repr=False)

    @property
    def aead(self) -> AESGCM:
        return AESGCM(self.material)


def is_token(value: object) -> bool:
    """Whether `value` has the form of an encrypted value token."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def key_id_of(token: str) -> str:
    """The id of the data key that sealed `token`."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise DecryptionError("the value is not an encrypted MultiFlexi secret")
    return match["key"]


def column_context(table: str, column: str) -> str:
    """The AAD context of a value stored in `table`.`column` (used by rotation, too)."""
    return f"{table}.{column}"


def _context(context: str) -> bytes:
    if not isinstance(context, str) or not context:
        raise ValueError("the encryption context must be a non-empty string")
    return context.encode("utf-8")


class KeyRing:
    """The data keys of one database: encrypt with the active key, decrypt with any."""

    def __init__(self, keys: Iterable[DataKey]) -> None:
        self._keys = {key.key_id: key for key in keys}

    def __repr__(self) -> str:
        active = self._active()
        return f"KeyRing(keys={len(self._keys)}, active={active.key_id if active else None!r})"

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    @property
    def keys(self) -> list[DataKey]:
        """Every key, oldest version first."""
        return sorted(self._keys.values(), key=lambda key: key.version)

    def _active(self) -> DataKey | None:
        active = [key for key in self._keys.values() if key.active]
        return max(active, key=lambda key: key.version) if active else None

    @property
    def active(self) -> DataKey:
        key = self._active()
        if key is None:
            raise ConfigurationError(
                "encryption_keys", "no active encryption key; initialise or rotate the key ring"
            )
        return key

    def encrypt(self, plaintext: str, context: str) -> str:
        """A token for `plaintext`, sealed by the active key and bound to `context`."""
        if not isinstance(plaintext, str):
            raise TypeError("only text is encrypted")
        key = self.active
        nonce = os.urandom(_NONCE)
        sealed = key.aead.encrypt(nonce, plaintext.encode("utf-8"), _context(context))
        return f"{TOKEN_PREFIX}:{key.key_id}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        """The plaintext of `token`; DecryptionError when it is damaged or of another context."""
        aad = _context(context)
        key_id = key_id_of(token)
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError(f"encryption key {key_id} is not in this database's key ring")
        try:
            blob = _b64decode(token.rsplit(":", 1)[1])
            if len(blob) < _NONCE + _TAG:
                raise ValueError("too short")
            return key.aead.decrypt(blob[:_NONCE], blob[_NONCE:], aad).decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error):
            raise DecryptionError(
                f"a secret of {context} is damaged or was sealed for another field"
            ) from None

    @classmethod
    def load(cls, connection: Connectable, master_key: MasterKey | str) -> KeyRing:
        """The ring stored in `encryption_keys`, unwrapped with the master key.

        DecryptionError when the master key is not the one the keys were sealed
        with; ConfigurationError when the database holds no key yet.
        """
        master = _master(master_key)
        rows = connection.execute(sa.select(encryption_keys)).mappings().all()
        if not rows:
            raise ConfigurationError(
                "encryption_keys", "the database has no encryption key yet; initialise the key ring"
            )
        return cls(_unwrap_rows(rows, master))


def _unwrap_rows(rows: Sequence[sa.RowMapping], master: MasterKey) -> list[DataKey]:
    if any(row["master_fingerprint"] != master.fingerprint for row in rows):
        raise DecryptionError(WRONG_MASTER_KEY)
    keys = []
    for row in rows:
        if row["algorithm"] != ALGORITHM:
            raise DecryptionError(
                f"encryption key {row['key_id']} uses {row['algorithm']!r}, not {ALGORITHM}"
            )
        material = master.unwrap(row["key_id"], row["wrapped_key"])
        keys.append(DataKey(row["key_id"], row["version"], bool(row["is_active"]), material))
    return keys


# --- the database side -------------------------------------------------------------


@contextmanager
def _atomic(connection: Connectable) -> Iterator[None]:
    """Our own transaction, or the caller's when one is open (the caller then commits)."""
    if connection.in_transaction():
        yield
        return
    with connection.begin():
        yield


def _new_key(connection: Connectable, master: MasterKey, version: int) -> DataKey:
    key = DataKey(secrets.token_hex(8), version, True, os.urandom(32))
    try:
        connection.execute(
            sa.insert(encryption_keys).values(
                key_id=key.key_id,
                version=key.version,
                algorithm=ALGORITHM,
                wrapped_key=master.wrap(key.key_id, key.material),
                master_fingerprint=master.fingerprint,
                is_active=True,
                created_at=utc_now(),
            )
        )
    except IntegrityError:
        raise Conflict(
            msg("encryption_keys: another process changed the key ring at the same time; try again")
        ) from None
    return key


def init_keyring(connection: Connectable, master_key: MasterKey | str) -> KeyRing:
    """The stored ring; creates the first key when there is none (safe to call again)."""
    master = _master(master_key)
    with _atomic(connection):
        rows = connection.execute(sa.select(encryption_keys)).mappings().all()
        if rows:
            return KeyRing(_unwrap_rows(rows, master))
        return KeyRing([_new_key(connection, master, 1)])


def _sealed_values(
    connection: Connectable, ring: KeyRing
) -> list[tuple[sa.Table, str, str, list[dict[str, Any]]]]:
    """Every sealed value of every ENCRYPTED_COLUMNS table, decrypted, before any write."""
    found = []
    for table_name, column, key_column in ENCRYPTED_COLUMNS:
        table = metadata.tables[table_name]
        context = column_context(table_name, column)
        rows = connection.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[key_column].is_not(None))
        ).all()
        plain = []
        for row_id, token in rows:
            try:
                plain.append({"_id": row_id, "_plain": ring.decrypt(token, context)})
            except DecryptionError as error:
                raise DecryptionError(f"{table_name} row {row_id}: {error.message}") from None
        found.append((table, column, key_column, plain))
    return found


def rotate(connection: Connectable, master_key: MasterKey | str) -> KeyRing:
    """A new active key; every sealed value re-encrypted under it; the old keys retired.

    One transaction: every value is decrypted before anything is written, so a
    damaged value stops the rotation with DecryptionError and changes nothing.
    Retired keys stay in the ring (they still decrypt older copies of values).
    """
    master = _master(master_key)
    with _atomic(connection):
        ring = KeyRing.load(connection, master)
        sealed = _sealed_values(connection, ring)
        version = max(key.version for key in ring.keys) + 1
        new_key = _new_key(connection, master, version)
        retired = [DataKey(k.key_id, k.version, False, k.material) for k in ring.keys]
        new_ring = KeyRing([*retired, new_key])
        for table, column, key_column, rows in sealed:
            if not rows:
                continue
            context = column_context(table.name, column)
            connection.execute(
                sa.update(table)
                .where(table.c.id == sa.bindparam("_id"))
                .values({column: sa.bindparam("_token"), key_column: new_key.key_id}),
                [
                    {"_id": row["_id"], "_token": new_ring.encrypt(row["_plain"], context)}
                    for row in rows
                ],
            )
        connection.execute(
            sa.update(encryption_keys)
            .where(encryption_keys.c.key_id != new_key.key_id, encryption_keys.c.is_active)
            .values(is_active=False, retired_at=utc_now())
        )
    return new_ring


def change_master_key(
    connection: Connectable, old_master_key: MasterKey | str, new_master_key: MasterKey | str
) -> KeyRing:
    """Re-wrap every data key under a new master key, in one transaction.

    DecryptionError when `old_master_key` is not the one in use. Sealed values
    are untouched (they are sealed by the data keys, not by the master key).
    """
    old, new = _master(old_master_key), _master(new_master_key)
    with _atomic(connection):
        ring = KeyRing.load(connection, old)
        for key in ring.keys:
            connection.execute(
                sa.update(encryption_keys)
                .where(encryption_keys.c.key_id == key.key_id)
                .values(
                    wrapped_key=new.wrap(key.key_id, key.material),
                    master_fingerprint=new.fingerprint,
                )
            )
    return ring


__all__ = [
    "ALGORITHM",
    "MASTER_KEY_VARIABLES",
    "MIN_MASTER_KEY_LENGTH",
    "TOKEN_PREFIX",
    "WRONG_MASTER_KEY",
    "DataKey",
    "KeyRing",
    "MasterKey",
    "change_master_key",
    "column_context",
    "init_keyring",
    "is_token",
    "key_id_of",
    "master_key_from_env",
    "rotate",
]
