"""Is a database at this code's head revision? Answered without loading Alembic.

Every MultiFlexi command checks the schema before it starts; Alembic's script
machinery costs a few hundred milliseconds to load, which a command line should
not pay on every call. This reads the revision ids straight from the shipped
migration files and the ``alembic_version`` table. When the answer is "no" the
caller asks :func:`multiflexi.database.check` for the full story and the advice.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError

from multiflexi.database.connect import connect, missing_sqlite_file

_REVISION = re.compile(r"^revision(?:\s*:\s*[^=]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(.+)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


@functools.cache
def head_revision() -> str | None:
    """The single head of the shipped history, or None when it cannot be told simply."""
    versions = Path(str(resources.files("multiflexi.database").joinpath("migrations", "versions")))
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(url: str | URL) -> bool:
    """True only when the database is certainly at this code's head revision."""
    head = head_revision()
    if head is None or missing_sqlite_file(url):
        return False
    try:
        with connect(url) as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False  # no table yet, or something the full check will explain
    return [row[0] for row in rows] == [head]
