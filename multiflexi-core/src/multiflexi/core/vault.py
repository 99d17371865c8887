"""Sealing and unsealing secret values with the database's key ring.

The key ring (see :mod:`multiflexi.core.crypto`) is loaded once per session
from the ``encryption_keys`` table with ENCRYPTION_MASTER_KEY; the first secret
ever stored creates the first data key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from multiflexi.core.config import settings_of

if TYPE_CHECKING:
    from multiflexi.core import crypto

_CACHE_KEY = "multiflexi.keyring"


def keyring(session: Session) -> crypto.KeyRing:
    """The session's key ring, created on first use when the database has none yet."""
    ring = session.info.get(_CACHE_KEY)
    if ring is None:
        # loaded with the first secret (cryptography costs every command start-up time)
        from multiflexi.core import crypto

        master_key = settings_of(session).require_master_key()
        connection = session.connection()
        crypto.init_keyring(connection, master_key)
        ring = crypto.KeyRing.load(connection, master_key)
        session.info[_CACHE_KEY] = ring
    return ring


def forget(session: Session) -> None:
    """Drop the cached key ring (after a rotation)."""
    session.info.pop(_CACHE_KEY, None)


def seal(session: Session, plaintext: str, context: str) -> tuple[str, str]:
    """(token, key id) of a secret value; ``context`` names the column it goes to."""
    from multiflexi.core import crypto

    token = keyring(session).encrypt(plaintext, context)
    return token, crypto.key_id_of(token)


def unseal(session: Session, token: str, context: str) -> str:
    return keyring(session).decrypt(token, context)


__all__ = [
    "forget",
    "keyring",
    "seal",
    "unseal",
]
