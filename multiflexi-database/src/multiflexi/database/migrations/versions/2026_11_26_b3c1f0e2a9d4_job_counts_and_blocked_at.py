"""job counts per company, and when a job was blocked

``job_counts`` holds the number of jobs of each company, so that the total of an unfiltered
job list is a sum over a few rows instead of a count over millions. The core keeps it where
jobs are created and deleted; this revision fills it from the jobs already present.
``jobs.blocked_at`` records when a credential availability check held a job back.

Revision ID: b3c1f0e2a9d4
Revises: 70a0d8714a8a
Created: 2026-11-26 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "b3c1f0e2a9d4"
down_revision: str | Sequence[str] | None = "70a0d8714a8a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_counts",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_job_counts_company_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_job_counts")),
        comment="number of jobs per company, kept by the core where jobs are created and deleted",
    )
    op.execute(
        "INSERT INTO job_counts (company_id, total) "
        "SELECT companies.id, (SELECT COUNT(*) FROM jobs WHERE jobs.company_id = companies.id) "
        "FROM companies"
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "blocked_at",
                sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
                nullable=True,
                comment="when a credential check held it",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("blocked_at")
    op.drop_table("job_counts")
