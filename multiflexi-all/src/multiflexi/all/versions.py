"""Which MultiFlexi components are installed, and whether they are the pinned set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import Requirement

from multiflexi.core.status import COMPONENTS

DISTRIBUTION = "multiflexi-all"


@dataclass(frozen=True)
class ComponentVersion:
    name: str
    installed: str | None
    pinned: str | None

    @property
    def matches(self) -> bool:
        return self.pinned is None or self.installed == self.pinned


def pins() -> dict[str, str]:
    """The exact versions multiflexi-all requires, read from its own metadata."""
    result: dict[str, str] = {}
    for line in metadata.requires(DISTRIBUTION) or []:
        req = Requirement(line)
        if not req.name.startswith("multiflexi-") or req.marker is not None:
            continue
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            result[req.name] = specs[0].version
    return result


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def component_versions() -> list[ComponentVersion]:
    pinned = pins()
    return [ComponentVersion(name, installed(name), pinned.get(name)) for name in COMPONENTS]


def is_pinned_set() -> bool:
    return all(c.matches for c in component_versions())


def schema_revision(env_file: str | os.PathLike[str] | None = None) -> dict[str, str | None]:
    """Where the configured database stands: revision, head, state and a message."""
    import multiflexi.database as database
    from multiflexi.core import config
    from multiflexi.core.errors import MultiFlexiError

    try:
        settings = config.load_settings(env_file=env_file)
        status = database.check(settings.database_url)
    except (MultiFlexiError, database.DatabaseUnavailable, database.SettingError) as exc:
        return {
            "revision": None,
            "head": database.head(),
            "state": "unavailable",
            "message": str(exc),
        }
    return {
        "revision": status.current,
        "head": status.head,
        "state": status.state,
        "message": status.message,
    }
