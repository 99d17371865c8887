"""login throttles

``login_throttles`` counts failed logins per client address and login (both kept only
as keyed hashes), so the sign-in throttle holds back one address guessing one login
while the same login still works from anywhere else, across every server process.
It replaces locking the whole account; ``users.locked_until`` is no longer set.

Revision ID: 01f39c51dc7e
Revises: f660da8b9b74
Created: 2026-12-07 14:45:49
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "01f39c51dc7e"
down_revision: str | Sequence[str] | None = "f660da8b9b74"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column(
            "key",
            sa.String(length=64),
            nullable=False,
            comment="keyed hash of client address and login",
        ),
        sa.Column(
            "login_key", sa.String(length=64), nullable=False, comment="keyed hash of the login"
        ),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "window_ends_at",
            sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttles")),
        comment="failed logins per client address and login, for the sign-in throttle",
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_login_key"), ["login_key"])
        batch_op.create_index(batch_op.f("ix_login_throttles_window_ends_at"), ["window_ends_at"])


def downgrade() -> None:
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_window_ends_at"))
        batch_op.drop_index(batch_op.f("ix_login_throttles_login_key"))
    op.drop_table("login_throttles")
