"""The normalised, immutable form of an application manifest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multiflexi.core.manifests.localized import Localized

#: configuration field types of the current format (schema 3.4.0)
FIELD_TYPES: tuple[str, ...] = (
    "string",
    "file-path",
    "email",
    "url",
    "integer",
    "float",
    "bool",
    "password",
    "set",
    "text",
)
#: field types whose values are secret unless the manifest says otherwise
SECRET_TYPES = frozenset({"password"})
#: field types that hold several lines unless the manifest says otherwise
MULTILINE_TYPES = frozenset({"text"})
CATEGORIES: tuple[str, ...] = ("API", "Database", "Behavior", "Security", "Other")
SEVERITIES: tuple[str, ...] = ("success", "info", "warning", "error", "critical")
DEFAULT_SEVERITY = "error"

#: a field default: text, or a number or boolean for integer, float and bool fields
Default = str | int | float | bool


@dataclass(frozen=True)
class Field:
    """One configuration key the application reads from its environment."""

    name: str
    type: str = "string"
    default: Default | None = None
    required: bool = False
    secret: bool = False
    description: Localized | None = None
    hint: Localized | None = None
    note: Localized | None = None
    category: str | None = None
    multiline: bool = False
    expiring: bool = False
    #: choices of a ``set`` field: a tuple of values or a mapping value -> label (frozen JSON)
    options: Any = None


@dataclass(frozen=True)
class ExitCode:
    """What one exit code of the application means."""

    code: int
    description: Localized
    severity: str = DEFAULT_SEVERITY
    retry: bool = False


@dataclass(frozen=True)
class Artifact:
    """Files the application leaves behind that are kept with the job."""

    name: Localized
    #: a regular expression matched against file names in the job's work directory
    pattern: str
    type: str
    description: Localized | None = None


@dataclass(frozen=True)
class Manifest:
    """An application manifest after normalisation.

    Localized texts keep every language given; ``name.text`` is the main name.
    ``produces``, ``consumes``, ``events`` and ``kubernetes`` keep their JSON
    blocks as given (frozen), since only executors and orchestrators read them.
    """

    name: Localized
    description: Localized
    executable: str
    uuid: str | None = None
    title: Localized | None = None
    code: str | None = None
    version: str | None = None
    #: the command-line template, with ``{VAR}`` placeholders
    cmdparams: str | None = None
    setup: str | None = None
    deploy: str | None = None
    homepage: str | None = None
    author: str | None = None
    license: str | None = None
    category: str | None = None
    ociimage: str | None = None
    #: the icon, usually a ``data:`` URI
    image: str | None = None
    tags: tuple[str, ...] = ()
    #: codes of the credential prototypes the application needs
    requirements: tuple[str, ...] = ()
    #: seconds after which a run is stopped (an extension of this project; not in schema 3.4.0)
    timeout: int | None = None
    fields: tuple[Field, ...] = ()
    exit_codes: tuple[ExitCode, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    produces: Any = None
    consumes: Any = None
    events: Any = None
    kubernetes: Any = None

    def field(self, name: str) -> Field | None:
        for field in self.fields:
            if field.name == name:
                return field
        return None

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language any of the application's own texts is given in."""
        found: set[str] = set()
        for text in (self.name, self.title, self.description):
            if text is not None:
                found.update(text.languages)
        return tuple(sorted(found, key=lambda lang: (lang != "en", lang)))
