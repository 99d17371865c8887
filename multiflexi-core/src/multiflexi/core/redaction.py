"""What a face shows of a stored secret: one function per kind of object it shows.

Every face (the API, the compatibility layer, the CLI, later the web UI) formats the
core's objects in its own shape, but none of them decides which value is secret: it
asks this module, which answers with the value to show, :data:`REDACTED` in place of
a secret one. A face never reads a secret value to show it; revealing a credential is
a separate, audited action (:func:`multiflexi.core.credentials.reveal`).

The rule of each kind, as every face has always shown it:

- a configuration field's default (an application's field, a credential type's field)
  is hidden when the field is secret and has a default; an empty default stays empty;
- a company variable's value is hidden when the variable is secret;
- a run template's value is hidden when it is sealed at rest (it has a key id), which
  is what a secret field's value always is;
- a credential's values and a credential type's settings are always hidden: only their
  names are shown;
- a run template action's options are shown as stored, except its secret ones (sealed
  apart, the marker in their place; or named secret by the action's kind);
- an audit entry's details are shown as recorded: the core records the names of the
  secret fields that changed, never their values.

:data:`KINDS` names every kind, so a test can plant a secret of each and read it
through every face.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from multiflexi.core import actionkinds
from multiflexi.database.tables import REDACTED

if TYPE_CHECKING:
    from multiflexi.core.credentials import FieldSpec
    from multiflexi.core.models import (
        ApplicationField,
        AuditEntry,
        CompanyVariable,
        Credential,
        CredentialType,
        RunTemplate,
        RunTemplateAction,
        RunTemplateValue,
    )


def _hidden_if(secret: bool, value: str | None) -> str | None:
    """``value``, or :data:`REDACTED` when it is a secret's and not empty."""
    return REDACTED if secret and value else value


def application_field_default(field: ApplicationField) -> str | None:
    """An application's configuration field's default (secret by flag, type or name)."""
    return _hidden_if(field.is_secret, field.default_value)


def credential_field_default(field: FieldSpec) -> str | None:
    """A credential type's field's default, its own or its prototype's."""
    return _hidden_if(field.secret, field.default)


def credential_type_settings(ctype: CredentialType) -> dict[str, str]:
    """A credential type's settings: their names, never their values."""
    return dict.fromkeys((s.name for s in ctype.settings), REDACTED)


def company_variable(variable: CompanyVariable) -> str:
    """A company variable's value."""
    return REDACTED if variable.secret else variable.value


def run_template_value_is_secret(value: RunTemplateValue) -> bool:
    """Whether a run template's value is a secret's: sealed at rest (it has a key id)."""
    return value.key_id is not None


def run_template_value(value: RunTemplateValue) -> str:
    """One configuration value of a run template: hidden when it is a secret's."""
    return REDACTED if run_template_value_is_secret(value) else value.value


def run_template_values(rt: RunTemplate) -> dict[str, str]:
    """A run template's configuration, name -> :func:`run_template_value`, in stored order."""
    return {v.name: run_template_value(v) for v in rt.values}


def credential_values(credential: Credential) -> dict[str, str]:
    """A credential's values: their names, never the values."""
    return dict.fromkeys((v.name for v in credential.values), REDACTED)


def run_template_action_secret_names(action: RunTemplateAction) -> list[str]:
    """The names of a run template action's stored secret options (sealed, or secret by
    its kind), in stored order."""
    secret = set(actionkinds.secret_names(action.action))
    return [
        name
        for name, value in (action.options or {}).items()
        if (name in secret or value == REDACTED) and value not in (None, "")
    ]


def run_template_action_options(action: RunTemplateAction) -> dict[str, Any]:
    """A run template action's options: a secret one hidden."""
    secret = set(run_template_action_secret_names(action))
    return {
        name: REDACTED if name in secret else value
        for name, value in (action.options or {}).items()
    }


def audit_details(entry: AuditEntry) -> Any:
    """An audit entry's details, as recorded (names of changed secrets, never values)."""
    return entry.details


#: every kind of object whose secrets a face shows -> the functions that show it
KINDS: Mapping[str, tuple[Callable[..., Any], ...]] = {
    "application_field_default": (application_field_default,),
    "credential_field_default": (credential_field_default,),
    "credential_type_settings": (credential_type_settings,),
    "company_variable": (company_variable,),
    "run_template_value": (run_template_value, run_template_values, run_template_value_is_secret),
    "credential_values": (credential_values,),
    "run_template_action_options": (
        run_template_action_options,
        run_template_action_secret_names,
    ),
    "audit_details": (audit_details,),
}

__all__ = [
    "KINDS",
    "REDACTED",
    "application_field_default",
    "audit_details",
    "company_variable",
    "credential_field_default",
    "credential_type_settings",
    "credential_values",
    "run_template_action_options",
    "run_template_action_secret_names",
    "run_template_value",
    "run_template_value_is_secret",
    "run_template_values",
]
