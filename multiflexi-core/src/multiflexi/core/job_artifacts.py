"""Reading the artifacts a job produced: list them, find one, get its content.

The executor stores each artifact either inline (``content``) or as a file
under the data directory (``path``). Access rules are the caller's business
(:mod:`multiflexi.core.access`); these functions only find things.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import jobs
from multiflexi.core.errors import NotFound
from multiflexi.core.models import Artifact
from multiflexi.core.texts import msg


def list_for_job(session: Session, job_id: int) -> list[Artifact]:
    """The job's artifacts in the order they were stored; NotFound for an unknown job."""
    jobs.get(session, job_id)
    return list(
        session.scalars(sa.select(Artifact).where(Artifact.job_id == job_id).order_by(Artifact.id))
    )


def get(session: Session, job_id: int, artifact_id: int) -> Artifact:
    """One artifact of the job (an artifact of another job is NotFound)."""
    artifact = session.get(Artifact, artifact_id)
    if artifact is None or artifact.job_id != job_id:
        raise NotFound(msg("artifact of job {job_id}", job_id=job_id), artifact_id)
    return artifact


def content(artifact: Artifact) -> bytes | Path:
    """The stored bytes, or the file that holds them; NotFound when the file is gone."""
    if artifact.content is not None:
        return artifact.content
    if artifact.path:
        path = Path(artifact.path)
        if path.is_file():
            return path
    raise NotFound("content of artifact", artifact.id)


__all__ = ["content", "get", "list_for_job"]
