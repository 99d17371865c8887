"""jobs index on company, state and id

A company's jobs in one state (the API's job list filtered by state for a company
administrator, or by company and state) are counted and paged from this index alone,
instead of a bitmap AND of (company_id, id) and (state, scheduled_at) over the heap.

Revision ID: 70a0d8714a8a
Revises: 54a88babde01
Created: 2026-11-26 19:35:22.783596
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "70a0d8714a8a"
down_revision: str | Sequence[str] | None = "54a88babde01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobs_company_id_jobs_state_jobs_id"),
            ["company_id", "state", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_company_id_jobs_state_jobs_id"))
