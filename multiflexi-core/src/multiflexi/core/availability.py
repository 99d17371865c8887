"""Whether a credential can be used now: the credential availability gate.

Before a job runs, the executor asks about every credential bound to its run
template (:func:`gate`). The answer for one credential is an :class:`Availability`:

* ``available`` - a check said it works;
* ``degraded``, ``unavailable`` - it does not work now (a bank API is down, a token
  is rate-limited): the job waits ``ttl`` seconds and is tried again;
* ``misconfigured`` - it cannot work as it is (a required field has no value): the
  job is held until someone looks at it;
* ``unknown`` - nobody can tell (no check is installed, a check failed): the job runs.

A result is *satisfied* when it is ``available`` or ``unknown``.

Two kinds of check answer:

* **Built in**, for every credential: a required field of its credential type
  (prototype fields and the type's own) without a stored value or a default is
  ``misconfigured``; the answer names the fields, never a value. It reads which
  names are stored, unsealing nothing.
* **Plug-ins**: a callable registered in the entry point group
  ``multiflexi.credential_checks`` under the credential prototype's code
  (``credential_types.prototype_code``), e.g. in a plug-in's ``pyproject.toml``::

      [project.entry-points."multiflexi.credential_checks"]
      fio = "multiflexi_fio.check:check"

  It is called (only when the built-in check passed) with a :class:`CheckRequest`
  that carries the credential's unsealed values in memory, and returns an
  :class:`Availability`. It must never log or store the values. A plug-in that
  raises, answers something else or does not answer within
  :data:`CHECK_TIMEOUT` seconds gives ``unknown`` (logged without values). Every
  secret value of the credential is masked (``***``) in the message it returns.
  A credential whose prototype has no plug-in is ``unknown`` once its required
  fields are filled.

Results are kept in this process per (credential id, its ``updated_at``) for the
result's ``ttl`` (a changed credential is checked afresh at once; a changed
prototype or credential type within the ttl). :func:`check_credential` is the
on-demand check a user asks for: it always checks afresh, needs write access to
the credential's company and leaves an audit row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol

from sqlalchemy.orm import Session

from multiflexi.core import access, audit, credentials, loaders
from multiflexi.core.audit import Actor
from multiflexi.core.environment import Entry, JobEnvironment
from multiflexi.core.errors import DecryptionError
from multiflexi.core.models import Credential, RunTemplate
from multiflexi.core.unit import transaction
from multiflexi.database.tables import utc_now as now

log = logging.getLogger(__name__)

#: the entry point group of credential check plug-ins (entry point name: prototype code)
GROUP = "multiflexi.credential_checks"
#: seconds a result is kept (and a deferred job waits) when the check names no ttl
DEFAULT_TTL = 60.0
#: bounds of a ttl, whatever a check asks for
MIN_TTL = 1.0
MAX_TTL = 24 * 3600.0
#: seconds a plug-in may take before its answer counts as ``unknown``
CHECK_TIMEOUT = 30.0
#: characters of a check's message that are kept
MESSAGE_LIMIT = 500
#: results kept per process before expired ones are dropped
CACHE_LIMIT = 4096


class State(enum.StrEnum):
    """What a check says about a credential."""

    AVAILABLE = "available"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"
    MISCONFIGURED = "misconfigured"
    UNKNOWN = "unknown"


STATES = tuple(s.value for s in State)
#: the states in which a job may run
SATISFIED = frozenset({State.AVAILABLE, State.UNKNOWN})
#: the states after which a held job is tried again (after the ttl)
DEFERRING = frozenset({State.DEGRADED, State.UNAVAILABLE})
#: exit code of the commands that wait for a job the gate held back (EX_TEMPFAIL, as
#: in the original MultiFlexi): `multiflexi-executor run-template`, `multiflexi-cli
#: run-template schedule --wait`
HELD_EXIT = 75


def held_note(job_id: int, reason: str | None, state: str | None) -> str:
    """One line for a person: which job the gate held back, why, and what happens next."""
    then = "it is tried again later" if state == "scheduled" else "it will not run as it is"
    return f"job {job_id} blocked: {reason or 'a credential is not usable'} ({then})"


@dataclasses.dataclass(frozen=True)
class Availability:
    """One check's answer about one credential.

    ``state`` is one of :class:`State` (a plain string is accepted); ``message`` says
    why, for people (never a secret value); ``ttl`` is how many seconds the answer
    holds (bounded to MIN_TTL..MAX_TTL); ``checked_at`` when it was given (UTC).
    """

    state: State
    message: str = ""
    ttl: float = DEFAULT_TTL
    checked_at: dt.datetime = dataclasses.field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", State(self.state))  # ValueError: not a state
        if not isinstance(self.message, str):
            raise TypeError("message must be text")
        ttl = float(self.ttl)
        if math.isnan(ttl):
            raise ValueError("ttl must be a number of seconds")
        object.__setattr__(self, "ttl", min(MAX_TTL, max(MIN_TTL, ttl)))
        if self.checked_at.tzinfo is None:
            raise ValueError("checked_at must have a time zone")
        object.__setattr__(self, "checked_at", self.checked_at.astimezone(dt.UTC))

    @property
    def satisfied(self) -> bool:
        """Whether a job may run with it (available or unknown)."""
        return self.state in SATISFIED

    def describe(self) -> str:
        """``state: message`` (or the state alone)."""
        return f"{self.state.value}: {self.message}" if self.message else self.state.value

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "message": self.message,
            "ttl": self.ttl,
            "checked_at": self.checked_at,
            "satisfied": self.satisfied,
        }


@dataclasses.dataclass(frozen=True)
class CheckRequest:
    """What a check plug-in gets. ``values`` are plain text: keep them in memory only."""

    credential_id: int
    credential_name: str
    company_id: int
    prototype_code: str
    #: field name -> value (stored values and the fields' defaults)
    values: Mapping[str, str] = dataclasses.field(repr=False)
    #: the names among ``values`` that are secret
    secret_names: frozenset[str] = frozenset()


class CredentialCheck(Protocol):
    """A check plug-in: the callable an entry point of :data:`GROUP` names."""

    def __call__(self, request: CheckRequest) -> Availability: ...


@dataclasses.dataclass(frozen=True)
class CredentialStatus:
    """The answer about one bound credential, with the credential it is about."""

    credential_id: int
    credential_name: str
    prototype_code: str | None
    availability: Availability

    @property
    def satisfied(self) -> bool:
        return self.availability.satisfied

    def describe(self) -> str:
        """One line for a job's record: which credential, and the answer."""
        kind = f" ({self.prototype_code})" if self.prototype_code else ""
        return f"credential {self.credential_name!r}{kind}: {self.availability.describe()}"


# -- plug-ins ---------------------------------------------------------------------


@functools.cache
def _plugin(code: str) -> tuple[CredentialCheck | None, str | None]:
    """The check registered for a prototype code: (check, None), (None, why not) or (None, None)."""
    for ep in entry_points(group=GROUP, name=code):
        try:
            check: CredentialCheck = ep.load()
        except Exception as exc:
            log.warning("credential check %r (%s) cannot be loaded: %s", code, ep.value, exc)
            return None, f"the check for {code!r} cannot be loaded ({type(exc).__name__})"
        return check, None
    return None, None


def installed() -> list[str]:
    """The prototype codes that have a check plug-in installed."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


# -- the cache ----------------------------------------------------------------------

_CacheKey = tuple[int, "dt.datetime | None"]
_results: dict[_CacheKey, tuple[float, Availability]] = {}
_lock = threading.Lock()


def _cached(key: _CacheKey) -> Availability | None:
    with _lock:
        found = _results.get(key)
    if found is None or found[0] <= time.monotonic():
        return None
    return found[1]


def _remember(key: _CacheKey, result: Availability) -> None:
    stamp = time.monotonic()
    with _lock:
        if len(_results) >= CACHE_LIMIT:
            for old in [k for k, (until, _) in _results.items() if until <= stamp]:
                del _results[old]
            if len(_results) >= CACHE_LIMIT:
                _results.clear()
        _results[key] = (stamp + result.ttl, result)


def clear_cache() -> None:
    """Forget every kept result and plug-in lookup (after installing a plug-in)."""
    with _lock:
        _results.clear()
    _plugin.cache_clear()


# -- one credential -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Pending:
    """A plug-in call prepared (values unsealed); runs without the database."""

    check: CredentialCheck
    request: CheckRequest
    secrets: tuple[str, ...] = dataclasses.field(repr=False)


def _missing(credential: Credential) -> list[str]:
    """Required fields without a stored value or a default (names only)."""
    present = {v.name for v in credential.values}
    return [
        spec.keyword
        for spec in credentials.fields_of(credential.credential_type)
        if spec.required and spec.keyword not in present and spec.default in (None, "")
    ]


def _prepare(session: Session, credential: Credential) -> Availability | _Pending:
    """The built-in answer, or the plug-in call to make (reads the database, no plug-in run)."""
    missing = _missing(credential)
    if missing:
        return Availability(
            State.MISCONFIGURED,
            f"required field{'s' if len(missing) > 1 else ''} without a value: "
            + ", ".join(missing),
        )
    code = credential.credential_type.prototype_code
    if not code:
        return Availability(State.UNKNOWN, "no availability check (the type has no prototype)")
    check, problem = _plugin(code)
    if check is None:
        return Availability(
            State.UNKNOWN, problem or f"no availability check is installed for {code!r}"
        )
    try:
        provided = credentials.provided_environment(session, credential)
    except DecryptionError:
        return Availability(
            State.MISCONFIGURED, "its values cannot be decrypted (check ENCRYPTION_MASTER_KEY)"
        )
    request = CheckRequest(
        credential_id=credential.id,
        credential_name=credential.name,
        company_id=credential.company_id,
        prototype_code=code,
        values={name: value for name, (value, _) in provided.items()},
        secret_names=frozenset(name for name, (_, secret) in provided.items() if secret),
    )
    secrets = tuple(value for value, secret in provided.values() if secret and value)
    return _Pending(check, request, secrets)


def _masked(text: str, secrets: Iterable[str]) -> str:
    entries = tuple(Entry(f"S{i}", value, True, "credential") for i, value in enumerate(secrets))
    masked = JobEnvironment(entries).mask(text) if entries else text
    if len(masked) > MESSAGE_LIMIT:
        masked = masked[: MESSAGE_LIMIT - 3] + "..."
    return masked


class _Failed(Exception):
    """A plug-in ended with something that is not an Exception (SystemExit, ...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _call(check: CredentialCheck, request: CheckRequest, timeout: float) -> Any:
    """The plug-in's answer; TimeoutError when it takes longer (its thread is left behind)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = check(request)
        except Exception as exc:  # handed to the caller
            box["error"] = exc
        except BaseException as exc:  # a plug-in's SystemExit must not stop the worker
            box["error"] = _Failed(type(exc).__name__)

    worker = threading.Thread(
        target=target, name=f"credential-check-{request.credential_id}", daemon=True
    )
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    return box.get("result")


def _run(pending: _Pending, timeout: float) -> Availability:
    request = pending.request
    code = request.prototype_code
    try:
        result = _call(pending.check, request, timeout)
    except TimeoutError:
        log.warning(
            "credential %d: the availability check %r gave no answer in %g s",
            request.credential_id,
            code,
            timeout,
        )
        return Availability(
            State.UNKNOWN, f"the check for {code!r} gave no answer in {timeout:g} s"
        )
    except Exception as exc:
        # the exception's text may quote a value: only its type is kept
        kind = exc.kind if isinstance(exc, _Failed) else type(exc).__name__
        log.warning(
            "credential %d: the availability check %r failed (%s)",
            request.credential_id,
            code,
            kind,
        )
        return Availability(State.UNKNOWN, f"the check for {code!r} failed ({kind})")
    if not isinstance(result, Availability):
        log.warning(
            "credential %d: the availability check %r answered %s, not an Availability",
            request.credential_id,
            code,
            type(result).__name__,
        )
        return Availability(State.UNKNOWN, f"the check for {code!r} gave no usable answer")
    message = _masked(result.message, pending.secrets)
    return dataclasses.replace(result, message=message) if message != result.message else result


def _key(credential: Credential) -> _CacheKey:
    return (credential.id, credential.updated_at)


def _status(credential: Credential, result: Availability) -> CredentialStatus:
    return CredentialStatus(
        credential_id=credential.id,
        credential_name=credential.name,
        prototype_code=credential.credential_type.prototype_code,
        availability=result,
    )


# -- run templates and credentials ----------------------------------------------------


def check_credentials(
    session: Session,
    bound: Iterable[Credential],
    *,
    first_unsatisfied: bool = False,
    fresh: bool = False,
    timeout: float = CHECK_TIMEOUT,
) -> list[CredentialStatus]:
    """The answers about ``bound`` credentials, in order.

    With ``first_unsatisfied`` it stops at the first answer that is not satisfied
    and returns only that one (answers known without a plug-in come first, so no
    plug-in is asked when one of them already holds the job). Kept answers are used
    unless ``fresh``. Before a plug-in is called the session's transaction is
    committed, so no database transaction stays open while a plug-in talks to the
    outside world: the session must have no pending changes.
    """
    statuses: list[CredentialStatus | None] = []
    pending: list[tuple[int, Credential, _Pending]] = []
    for credential in bound:
        answer = None if fresh else _cached(_key(credential))
        if answer is None:
            prepared = _prepare(session, credential)
            if isinstance(prepared, _Pending):
                pending.append((len(statuses), credential, prepared))
                statuses.append(None)
                continue
            answer = prepared
            _remember(_key(credential), answer)
        status = _status(credential, answer)
        if first_unsatisfied and not status.satisfied:
            return [status]
        statuses.append(status)
    if pending:
        session.commit()  # ends the read: nothing is held while the plug-ins work
    for index, credential, call in pending:
        answer = _run(call, timeout)
        _remember(_key(credential), answer)
        status = _status(credential, answer)
        if first_unsatisfied and not status.satisfied:
            return [status]
        statuses[index] = status
    return [s for s in statuses if s is not None]


def bound_credentials(run_template: RunTemplate) -> list[Credential]:
    """The credentials bound to a run template, in the order they were bound."""
    return [b.credential for b in sorted(run_template.credential_bindings, key=lambda b: b.id)]


def check_run_template(
    session: Session, run_template: RunTemplate, *, fresh: bool = False
) -> list[CredentialStatus]:
    """The answer about every credential bound to the run template (kept answers reused)."""
    return check_credentials(session, bound_credentials(run_template), fresh=fresh)


def gate(session: Session, run_template: RunTemplate) -> CredentialStatus | None:
    """The first credential of the run template that holds its job back; None: it may run.

    Commits the session's (read) transaction when a plug-in has to be asked.
    """
    for status in check_credentials(
        session, bound_credentials(run_template), first_unsatisfied=True
    ):
        if not status.satisfied:
            return status
    return None


def check_credential(
    session: Session,
    credential_id: int,
    *,
    actor: Actor,
    timeout: float = CHECK_TIMEOUT,
) -> Availability:
    """Check one credential now, for a user who asked (write access to its company; audited).

    A credential of a company the actor cannot see is NotFound, one the actor may
    only see is PermissionDenied; nothing is checked or recorded then. The answer is
    kept for the gate like any other.
    """
    credential = loaders.credential(session, actor, credential_id, access.WRITE)
    status = check_credentials(session, [credential], fresh=True, timeout=timeout)[0]
    result = status.availability
    with transaction(session):
        audit.record(
            session,
            actor,
            "check",
            "credential",
            credential.id,
            company_id=credential.company_id,
            details={
                "state": result.state.value,
                "message": result.message,
                "prototype": status.prototype_code,
            },
        )
    return result


__all__ = [
    "CHECK_TIMEOUT",
    "DEFAULT_TTL",
    "DEFERRING",
    "GROUP",
    "HELD_EXIT",
    "SATISFIED",
    "STATES",
    "Availability",
    "CheckRequest",
    "CredentialCheck",
    "CredentialStatus",
    "State",
    "bound_credentials",
    "check_credential",
    "check_credentials",
    "check_run_template",
    "clear_cache",
    "gate",
    "held_note",
    "installed",
    "now",
]
