"""The normalised, immutable forms of credential prototypes and credential type definitions."""

from __future__ import annotations

from dataclasses import dataclass

from multiflexi.core.manifests.localized import Localized

#: field types of a credential prototype (schema credential-prototype 0.2.0)
PROTOTYPE_FIELD_TYPES: tuple[str, ...] = (
    "string",
    "password",
    "email",
    "url",
    "integer",
    "boolean",
    "select",
    "textarea",
    "file",
)
#: field types of a credential type definition (schema credential-type 1.1.0)
CREDENTIAL_TYPE_FIELD_TYPES: tuple[str, ...] = (
    "string",
    "password",
    "number",
    "boolean",
    "secret",
    "select",
)


@dataclass(frozen=True)
class Option:
    """One choice of a ``select`` field."""

    value: str
    label: str


@dataclass(frozen=True)
class PrototypeField:
    """A value a credential of this kind holds, provided to jobs as an environment variable."""

    keyword: str
    type: str = "string"
    name: Localized | None = None
    description: Localized | None = None
    hint: Localized | None = None
    default: str | None = None
    required: bool = False
    secret: bool = False
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class CredentialPrototype:
    """A global kind of credential (``*.credprototype.json``); apps require it by ``code``."""

    uuid: str
    code: str
    name: Localized
    version: str
    description: Localized | None = None
    url: str | None = None
    homepage: str | None = None
    #: a file name such as ``Fio.svg``
    logo: str | None = None
    tags: tuple[str, ...] = ()
    fields: tuple[PrototypeField, ...] = ()

    def field(self, keyword: str) -> PrototypeField | None:
        for field in self.fields:
            if field.keyword == keyword:
                return field
        return None


@dataclass(frozen=True)
class CredentialTypeField:
    keyword: str
    name: Localized
    type: str = "string"
    description: Localized | None = None
    required: bool = False
    default: str | int | float | bool | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class CredentialTypeDefinition:
    """A credential type file (``*.credtype.json``): a company's configured use of a prototype.

    Only parsed and checked here; creating the company-scoped rows is the
    credential module's job.
    """

    uuid: str
    code: str
    name: Localized
    description: Localized
    version: str
    fields: tuple[CredentialTypeField, ...] = ()
