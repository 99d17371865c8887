"""jobs indexes for the job list's filters

The web UI's job list filters by application, by who launched a job, by trigger
(the schedule type) and by a time range, newest first. Each of the first three gets
an index that ends with ``id``, so a page is read from the index in order; the time
range gets one on ``scheduled_at``. The index on ``application_id`` alone gives way
to ``(application_id, id)``, which serves the foreign key as well (created first:
MySQL needs an index for the key at every moment).

Revision ID: 5d0e7b3c9a21
Revises: 01f39c51dc7e
Created: 2026-12-07 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5d0e7b3c9a21"
down_revision: str | Sequence[str] | None = "01f39c51dc7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = (
    ("ix_jobs_application_id_jobs_id", ["application_id", "id"]),
    ("ix_jobs_launched_by_jobs_id", ["launched_by", "id"]),
    ("ix_jobs_schedule_type_jobs_id", ["schedule_type", "id"]),
    ("ix_jobs_scheduled_at", ["scheduled_at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for name, columns in NEW:
            batch_op.create_index(batch_op.f(name), columns, unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_application_id"))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobs_application_id"), ["application_id"], unique=False
        )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        for name, _ in reversed(NEW):
            batch_op.drop_index(batch_op.f(name))
