"""sealed secret options of run template actions

An action's secret options (a webhook's URL may carry a token) are kept apart from
its plain ``options``: sealed together, as JSON, in ``secrets`` with the id of the
key that sealed them in ``secrets_key_id`` (so key rotation re-seals them like every
other sealed column). ``options`` keeps the redaction marker in their place.

Revision ID: 9c4e2a7d1b35
Revises: 5d0e7b3c9a21
Created: 2026-12-07 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c4e2a7d1b35"
down_revision: str | Sequence[str] | None = "5d0e7b3c9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run_template_actions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "secrets",
                sa.Text(),
                nullable=True,
                comment="the secret options as JSON, sealed",
            )
        )
        batch_op.add_column(sa.Column("secrets_key_id", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "options",
            existing_type=sa.JSON(),
            existing_nullable=True,
            comment="plain options; a secret one holds ***",
        )


def downgrade() -> None:
    with op.batch_alter_table("run_template_actions", schema=None) as batch_op:
        batch_op.alter_column(
            "options", existing_type=sa.JSON(), existing_nullable=True, comment=None
        )
        batch_op.drop_column("secrets_key_id")
        batch_op.drop_column("secrets")
