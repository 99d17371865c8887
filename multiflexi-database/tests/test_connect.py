"""Connection failures: one line, classified, and never the password (however short)."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from multiflexi.database.connect import describe_failure, hide_password
from multiflexi.database.errors import DatabaseUnavailable
from multiflexi.database.testing import free_port

REFUSED = (
    'connection failed: connection to server at "127.0.0.1", port 1 failed: '
    "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"
)


@pytest.mark.parametrize("password", ["o", "1", "n", "ed", ".", "127"])
def test_a_short_password_does_not_garble_the_message(password: str):
    url = make_url(f"postgresql+psycopg://mf:{password}@127.0.0.1:1/mf")

    failure = describe_failure(OSError(REFUSED), url)

    assert failure.problem == "unreachable"
    assert failure.message == (
        "cannot reach the database server at 127.0.0.1:1: connection failed: connection to "
        'server at "127.0.0.1", port 1 failed: Connection refused'
    )


@pytest.mark.parametrize(
    ("text", "password", "hidden"),
    [
        # where it stands as a password it is hidden, however short
        ("invalid dsn: password=1 host=x", "1", "invalid dsn: password=*** host=x"),
        ("bad conninfo: PASSWORD = 'a b' port=1", "a b", "bad conninfo: PASSWORD = '***' port=1"),
        ('password="q"', "q", 'password="***"'),
        ("postgresql://mf:x@h:1/db", "x", "postgresql://mf:***@h:1/db"),
        ("mysql://mf:p%40ss@h/db", "p@ss", "mysql://mf:***@h/db"),
        # elsewhere: from 4 characters on
        ("role mf with Tr0ub4 refused (Tr0ub4)", "Tr0ub4", "role mf with *** refused (***)"),
        ("port 1 failed; password=12", "1", "port 1 failed; password=12"),
        ("nothing to hide", None, "nothing to hide"),
    ],
)
def test_hide_password(text: str, password: str | None, hidden: str):
    assert hide_password(text, password) == hidden


def test_a_real_refused_connection_with_a_one_letter_password(tmp_path):
    from multiflexi.database import check

    port = free_port()  # nothing listens there
    with pytest.raises(DatabaseUnavailable) as info:
        check(f"postgresql+psycopg://mf:o@127.0.0.1:{port}/mf")
    assert info.value.problem == "unreachable"
    assert f'connection to server at "127.0.0.1", port {port} failed' in info.value.message
    assert "***" not in info.value.message
