"""How large one environment value, and a job's whole environment, may be.

A job's values reach its process through ``execve``, and Linux refuses an
environment string longer than 128 KiB (``MAX_ARG_STRLEN``) or arguments and
environment together above a quarter of the stack limit (2 MiB by default) with
"Argument list too long". The limits below keep well inside both, so a value
is refused when it is given (run-template configuration, company variable,
credential value, one-time launch value) and a launch is refused when the
environment it would assemble is too large, instead of the job failing when it
starts. Sizes are counted in bytes of UTF-8, as the kernel counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from multiflexi.core.errors import FieldError, ValidationError
from multiflexi.core.texts import msg

#: an environment variable name a user may give (company variables, credential fields,
#: one-time values): a letter or an underscore first, at most 128 characters
VARIABLE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
#: the largest value of one variable (UTF-8 bytes), also after its ``{VAR}`` macros expand
MAX_VALUE_BYTES = 64 * 1024
#: the largest environment of one job: each variable counts as ``NAME=value`` plus its NUL
MAX_ENVIRONMENT_BYTES = 1024 * 1024


def value_size(value: str) -> int:
    """The bytes a value takes in a process environment (UTF-8, lone surrogates escaped)."""
    return len(value.encode("utf-8", "surrogateescape"))


def entry_size(name: str, value: str) -> int:
    """The bytes ``NAME=value`` takes in a process environment, with its terminating NUL."""
    return value_size(name) + 1 + value_size(value) + 1


def value_problem(value: str) -> str | None:
    """Why ``value`` is too large to be one variable's value, or None when it fits."""
    size = value_size(value)
    if size > MAX_VALUE_BYTES:
        return f"is {size} bytes; a value may be at most {MAX_VALUE_BYTES} bytes"
    return None


def check_value(value: str) -> None:
    """``ValueError`` (a message to put after the variable's name) for a value too large."""
    problem = value_problem(value)
    if problem is not None:
        raise ValueError(problem)


def value_errors(values: Mapping[str, str | None], group: str) -> list[FieldError]:
    """A problem for each value too large (``None`` values are removals and fit).

    Each is about the field ``group.NAME`` (``overrides.API_TOKEN``) and reads
    ``"NAME: ..."`` on one line.
    """
    errors = []
    for name, value in values.items():
        problem = value_problem(value) if isinstance(value, str) else None
        if problem is not None:
            errors.append(FieldError(f"{group}.{name}", problem, name))
    return errors


def environment_size(entries: Iterable[tuple[str, str]]) -> int:
    """The bytes an environment of ``(name, value)`` pairs takes."""
    return sum(entry_size(name, value) for name, value in entries)


def environment_errors(entries: Iterable[tuple[str, str]]) -> list[FieldError]:
    """What makes an assembled environment too large to start a process with.

    The environment is assembled from every layer (company, credentials, run
    template, launch), so no one input is to blame: each problem is about the
    whole launch, and one about a variable names it on its line.
    """
    errors = []
    total = 0
    for name, value in entries:
        total += entry_size(name, value)
        problem = value_problem(value)
        if problem is not None:
            errors.append(
                FieldError(
                    None,
                    msg("{problem} (after its {{VAR}} macros are expanded)", problem=problem),
                    name,
                )
            )
    if total > MAX_ENVIRONMENT_BYTES:
        errors.append(
            FieldError(
                None,
                msg(
                    "the environment is {total} bytes; a job's environment may be at most "
                    "{max_environment_bytes} bytes",
                    total=total,
                    max_environment_bytes=MAX_ENVIRONMENT_BYTES,
                ),
            )
        )
    return errors


def check_environment(entries: Iterable[tuple[str, str]], summary: str) -> None:
    """Raise :class:`ValidationError` (``summary``) when the environment is too large."""
    errors = environment_errors(entries)
    if errors:
        raise ValidationError(summary, errors)


__all__ = [
    "MAX_ENVIRONMENT_BYTES",
    "MAX_VALUE_BYTES",
    "VARIABLE_NAME_PATTERN",
    "check_environment",
    "check_value",
    "entry_size",
    "environment_errors",
    "environment_size",
    "value_errors",
    "value_problem",
    "value_size",
]
