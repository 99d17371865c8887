"""Users: accounts, passwords, logins, the first administrator, company roles.

Passwords are kept only as argon2id hashes. :func:`authenticate` answers every
failure (unknown login, wrong password, disabled account) with the same
:class:`AuthenticationFailed` after the same hashing work, so a caller cannot
tell which logins exist. Failed attempts are throttled per client address and
login (:mod:`multiflexi.core.throttle`: :class:`LoginThrottled` after
:data:`MAX_FAILED_LOGINS` within the throttle's window); no account is ever
locked for everyone, so strangers cannot lock an administrator out.

A password that was verified is remembered for :data:`VERIFIED_TTL` (in the
process, under a keyed hash of the user's id, password hash, enabled and admin
flags and the password; never the password itself), so HTTP Basic on every API
request does not pay for argon2 each time. A new password, disabling the account
or changing its global role changes that key, so the memory is dropped at once
in every process (each reads the user's row on every request); company roles are
read afresh on every request anyway.

These functions carry no access policy: the faces ask :mod:`multiflexi.core.access`
first. They do keep one safety rule of their own: the last enabled global
administrator can be neither deleted, disabled nor demoted.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from multiflexi.core import audit, fieldtypes, lookups, schedules, throttle
from multiflexi.core.audit import Actor
from multiflexi.core.errors import (
    Conflict,
    FieldError,
    MultiFlexiError,
    NotFound,
    ValidationError,
)
from multiflexi.core.models import Company, CompanyUser, User
from multiflexi.core.texts import msg
from multiflexi.core.throttle import LoginThrottled
from multiflexi.core.unit import Page, paginate, transaction
from multiflexi.database.tables import COMPANY_ROLES

#: the hasher of new passwords; replace it to change the cost (old hashes are
#: upgraded at their owner's next successful login)
PASSWORD_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
#: failed logins of one login from one client before the throttle refuses it (for a while)
MAX_FAILED_LOGINS = throttle.MAX_FAILURES
#: how long a verified password is remembered (0 turns the memory off)
VERIFIED_TTL = dt.timedelta(seconds=60)
#: at most this many verified passwords are remembered per process
VERIFIED_MAX = 10_000
#: a successful login records itself at most this often (no write per API request)
LOGIN_RECORD_INTERVAL = dt.timedelta(minutes=1)
MAX_LOGIN_LENGTH = 128
#: the languages the pages speak (a user may choose one; else the browser's choice)
LANGUAGES = ("en", "cs")

#: the characters and length of a login
LOGIN_PATTERN = rf"^[A-Za-z0-9._@-]{{1,{MAX_LOGIN_LENGTH}}}$"
#: a user's e-mail address (blank around it is dropped first)
EMAIL_PATTERN = rf"^[^@\x00{fieldtypes.BLANKS}]+@[^@\x00{fieldtypes.BLANKS}]+$"
_LOGIN_RE = re.compile(LOGIN_PATTERN)
_EMAIL_RE = re.compile(EMAIL_PATTERN)
_NAME_MAX = 128
_ENTITY = "user"
_MEMBERSHIP = "company_user"


class AuthenticationFailed(MultiFlexiError):
    """Login and password (or token) were not accepted. Deliberately says no more."""

    kind = "authentication"

    def __init__(self) -> None:
        super().__init__("authentication failed: wrong login, password or token")


# --------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------

_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of nothing, verified instead of a missing one so every failure costs the same."""
    global _dummy
    if _dummy is None or _dummy[0] is not hasher:
        _dummy = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def _verify(hasher: PasswordHasher, stored: str, password: str) -> tuple[bool, bool]:
    """(matches, should be re-hashed with the current parameters). Constant time."""
    try:
        hasher.verify(stored, password)
    except InvalidHashError:
        # a hash we cannot read: do the work anyway, then refuse
        _verify(hasher, _dummy_hash(hasher), password)
        return False, False
    except VerificationError:
        return False, False
    return True, hasher.check_needs_rehash(stored)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            msg(
                "the password is too short: it needs at least {min_password_length} characters",
                min_password_length=MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            msg(
                "the password is too long: at most {max_password_length} characters",
                max_password_length=MAX_PASSWORD_LENGTH,
            ),
            field="password",
        )


# --------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------


def _check_login(login: str) -> str:
    if not isinstance(login, str) or not _LOGIN_RE.fullmatch(login):
        raise ValidationError(
            msg("invalid login"),
            [
                FieldError(
                    "login",
                    msg(
                        "a login is 1 to {max_login_length} characters of letters, digits and . _ "
                        "@ -",
                        max_login_length=MAX_LOGIN_LENGTH,
                    ),
                    "",
                )
            ],
        )
    return login


def _clean_email(email: str) -> str | None:
    email = email.strip()
    if not email:
        return None
    if len(email) > 255 or not _EMAIL_RE.fullmatch(email):
        raise ValidationError(
            msg("invalid email"),
            [FieldError("email", msg("{email!r} is not an email address", email=email), "")],
        )
    return email


#: the name fields, as a summary names them ("invalid first name")
_FIELD_WORDS = {"first_name": msg("first name"), "last_name": msg("last name")}


def _clean_name(field: str, value: str) -> str | None:
    """``field``: the request's name of the input (``first_name``); the summary says it in words."""
    value = value.strip()
    if len(value) > _NAME_MAX:
        problem = FieldError(field, msg("at most {name_max} characters", name_max=_NAME_MAX), "")
        raise ValidationError(
            msg("invalid {field}", field=_FIELD_WORDS.get(field, field)), [problem]
        )
    return value or None


def _check_language(language: str) -> str:
    if language and language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise ValidationError(
            msg("unknown language {language!r}; known: {known}", language=language, known=known),
            field="language",
        )
    return language


def language_of(user: User) -> str | None:
    """The language the user chose for the pages (one of :data:`LANGUAGES`), or None:
    the browser's choice then."""
    chosen = (user.settings or {}).get("language")
    return chosen if chosen in LANGUAGES else None


def session_stamp(user: User) -> str:
    """A short fingerprint of the user's password, kept in a web session when it opens: a
    session whose stamp no longer matches was opened with a password since replaced (or
    removed), and ends. It reveals nothing of the password (a digest of its salted hash)."""
    return hashlib.sha256(f"session:{user.password_hash or ''}".encode()).hexdigest()[:16]


def _find_login(session: Session, login: str) -> User | None:
    # logins differ by more than letter case (see create), so this is unambiguous
    # on every backend, whatever its collation
    return session.scalars(
        sa.select(User).where(sa.func.lower(User.login) == login.lower())
    ).first()


def get(session: Session, user_id: int) -> User:
    """The user with this id, else NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def get_by_login(session: Session, login: str) -> User:
    """The user with this login (letter case ignored), else NotFound."""
    user = _find_login(session, login) if isinstance(login, str) else None
    if user is None:
        raise NotFound("user", login)
    return user


def get_by_email(session: Session, email: str) -> User:
    """The one user with this e-mail address (letter case ignored), else NotFound.

    E-mail addresses are not unique: when several accounts share one, this raises
    :class:`~multiflexi.core.errors.Ambiguous` listing their ids instead of choosing.
    """
    if not isinstance(email, str) or not email.strip():
        raise ValidationError(msg("cannot look a user up"), [("email", msg("must not be empty"))])
    found = lookups.users_with_email(session, email)
    return lookups.one(found, "user with e-mail", repr(email.strip()))


def list(
    session: Session,
    *,
    enabled: bool | None = None,
    is_admin: bool | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[User]:
    """Users by id, optionally only enabled (or disabled) ones, or only administrators;
    ``search``: those whose login, names or e-mail contain the text (letter case ignored)."""
    query = sa.select(User)
    text = search.strip() if isinstance(search, str) else ""
    if text:
        columns = (User.login, User.first_name, User.last_name, User.email)
        query = query.where(sa.or_(*(c.icontains(text, autoescape=True) for c in columns)))
    if enabled is not None:
        query = query.where(User.enabled.is_(enabled))
    if is_admin is not None:
        query = query.where(User.is_admin.is_(is_admin))
    return paginate(session, query, User.id, limit, offset)


def create(
    session: Session,
    login: str,
    *,
    actor: Actor,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    enabled: bool = True,
    is_admin: bool = False,
) -> User:
    """A new account. Without a password it cannot log in (tokens still work)."""
    _check_login(login)
    if password is not None:
        _check_password(password)
    user = User(
        login=login,
        email=_clean_email(email),
        first_name=_clean_name("first_name", first_name),
        last_name=_clean_name("last_name", last_name),
        password_hash=None if password is None else PASSWORD_HASHER.hash(password),
        enabled=bool(enabled),
        is_admin=bool(is_admin),
        failed_logins=0,
    )
    with transaction(session, conflict=msg("login {login!r} is already taken", login=login)):
        if _find_login(session, login) is not None:
            raise Conflict(msg("login {login!r} is already taken", login=login))
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            _ENTITY,
            user.id,
            details={
                "login": user.login,
                "email": user.email,
                "enabled": user.enabled,
                "is_admin": user.is_admin,
                "has_password": password is not None,
            },
        )
    return user


def _other_enabled_admins(session: Session, user_id: int) -> int:
    # lock the administrator rows, so two concurrent demotions cannot both pass
    ids = session.scalars(
        sa.select(User.id)
        .where(User.is_admin.is_(True), User.enabled.is_(True), User.id != user_id)
        .with_for_update()
    ).all()
    return len(ids)


def _guard_last_admin(session: Session, user: User, doing: str) -> None:
    if user.is_admin and user.enabled and _other_enabled_admins(session, user.id) == 0:
        raise Conflict(
            msg(
                "cannot {doing} {login!r}: it is the last enabled global administrator; make "
                "another user an administrator first",
                doing=doing,
                login=user.login,
            )
        )


def update(
    session: Session,
    user_id: int,
    *,
    actor: Actor,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    enabled: bool | None = None,
    is_admin: bool | None = None,
    language: str | None = None,
) -> User:
    """Change the given fields (None leaves a field as it is, "" clears a text field;
    ``language`` "" goes back to the browser's choice)."""
    with transaction(session):
        user = get(session, user_id)
        wanted: dict[str, object] = {}
        if email is not None:
            wanted["email"] = _clean_email(email)
        if first_name is not None:
            wanted["first_name"] = _clean_name("first_name", first_name)
        if last_name is not None:
            wanted["last_name"] = _clean_name("last_name", last_name)
        if enabled is not None:
            wanted["enabled"] = bool(enabled)
        if is_admin is not None:
            wanted["is_admin"] = bool(is_admin)
        if language is not None and _check_language(language) != language_of(user):
            wanted["settings"] = {**(user.settings or {}), "language": language or None}
        changed = {k: v for k, v in wanted.items() if getattr(user, k) != v}
        if changed.get("enabled") is False:
            _guard_last_admin(session, user, "disable")
        if changed.get("is_admin") is False:
            _guard_last_admin(session, user, "demote")
        if changed:
            for key, value in changed.items():
                setattr(user, key, value)
            if "settings" in changed:
                changed = {**changed, "settings": {"language": language or None}}
            audit.record(session, actor, "update", _ENTITY, user.id, details=changed)
    return user


def set_password(session: Session, user_id: int, password: str | None, *, actor: Actor) -> User:
    """Set (or with None remove) the password; also lifts the login's sign-in throttles."""
    if password is not None:
        _check_password(password)
    with transaction(session):
        user = get(session, user_id)
        user.password_hash = None if password is None else PASSWORD_HASHER.hash(password)
        user.failed_logins = 0
        user.locked_until = None
        throttle.lift(session, user.login)
        audit.record(
            session,
            actor,
            "update",
            _ENTITY,
            user.id,
            details={"password": "removed" if password is None else "changed"},
        )
    return user


def change_own_password(
    session: Session,
    user_id: int,
    current: str,
    password: str,
    *,
    actor: Actor,
    address: str | None,
    now: dt.datetime | None = None,
) -> User:
    """A user's change of their own password, proven by the current one.

    The current password is checked by :func:`authenticate`, with its throttle: a wrong
    one counts as a failed login of this client (``address``) and, at the limit, the
    change is refused with :class:`LoginThrottled` even with the right one. A wrong
    current password is a ValidationError of ``current_password``; nothing changes.
    """
    _check_password(password)
    user = get(session, user_id)
    try:
        authenticate(session, user.login, current, address=address, now=now)
    except AuthenticationFailed:
        raise ValidationError(
            msg("the current password is wrong"),
            [FieldError("current_password", msg("this is not your current password"), "")],
        ) from None
    return set_password(session, user.id, password, actor=actor)


def unlock(session: Session, user_id: int, *, actor: Actor) -> User:
    """Forget the failed attempts: lift the login's sign-in throttles from every address.

    (Also clears ``locked_until``, which versions before the throttle set.)
    """
    with transaction(session):
        user = get(session, user_id)
        lifted = throttle.lift(session, user.login)
        if lifted or user.locked_until is not None or user.failed_logins:
            user.failed_logins = 0
            user.locked_until = None
            audit.record(session, actor, "unlock", _ENTITY, user.id, details={"throttles": lifted})
    return user


def delete(session: Session, user_id: int, *, actor: Actor) -> None:
    """Delete the account with its tokens and company roles (jobs and audit rows stay)."""
    with transaction(session):
        user = get(session, user_id)
        _guard_last_admin(session, user, "delete")
        audit.record(session, actor, "delete", _ENTITY, user.id, details={"login": user.login})
        session.delete(user)
    session.expire_all()


# --------------------------------------------------------------------------
# Logging in
# --------------------------------------------------------------------------


class _VerifiedPasswords:
    """Passwords verified lately, by a keyed hash of the user's state and the password.

    The key is an HMAC (with a random key of this process) over the user's id,
    password hash, enabled and admin flags and the password: no password is kept,
    and any change of those makes the key (and so the memory) different, in every
    process at once.
    """

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._until: dict[bytes, dt.datetime] = {}
        self._lock = threading.Lock()

    def _key(self, user: User, password: str) -> bytes:
        parts = (str(user.id), user.password_hash or "", str(user.enabled), str(user.is_admin))
        data = "\x00".join((*parts, password)).encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, data, hashlib.sha256).digest()

    def holds(self, user: User, password: str, moment: dt.datetime) -> bool:
        key = self._key(user, password)
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return False
            if moment < until:
                return True
            del self._until[key]
            return False

    def remember(self, user: User, password: str, moment: dt.datetime) -> None:
        if VERIFIED_TTL.total_seconds() <= 0:
            return
        key = self._key(user, password)
        with self._lock:
            if len(self._until) >= VERIFIED_MAX:
                for old in [k for k, until in self._until.items() if until <= moment]:
                    del self._until[old]
                while len(self._until) >= VERIFIED_MAX:  # the oldest first
                    del self._until[next(iter(self._until))]
            self._until.pop(key, None)
            self._until[key] = moment + VERIFIED_TTL


_verified = _VerifiedPasswords()


def authenticate(
    session: Session,
    login: str,
    password: str,
    *,
    address: str | None,
    now: dt.datetime | None = None,
) -> User:
    """The enabled user whose login and password these are; else AuthenticationFailed.

    ``address`` is the client's (its peer address): failed logins are throttled
    per address and login, and a client at the limit gets :class:`LoginThrottled`
    (before any password is checked) until its window ends. ``now`` (aware)
    replaces the clock, for tests and replays.
    """
    moment = schedules.now_or(now)
    name = login if isinstance(login, str) else ""
    earlier = throttle.check(session, address, name, now=moment)
    hasher = PASSWORD_HASHER
    candidate = password if isinstance(password, str) else ""
    user = _find_login(session, login) if _LOGIN_RE.fullmatch(name) else None
    stored = user.password_hash if user is not None else None
    remembered = (
        user is not None and stored is not None and _verified.holds(user, candidate, moment)
    )
    if remembered:
        matches, rehash = True, False
    else:
        matches, rehash = _verify(hasher, stored or _dummy_hash(hasher), candidate)
        matches = matches and stored is not None
    if user is not None and matches and user.enabled:
        _record_success(session, user, hasher, candidate, rehash, moment)
        if earlier:
            with transaction(session):
                throttle.forget(session, address, name)
        if not remembered:  # remembered from this verification on, not from the last use
            _verified.remember(user, candidate, moment)
        return user
    count = throttle.record_failure(session, address, name, now=moment)
    if user is not None and user.enabled and stored is not None:
        _count_failure(session, user, count, address)
    raise AuthenticationFailed()


def _record_success(
    session: Session,
    user: User,
    hasher: PasswordHasher,
    password: str,
    rehash: bool,
    moment: dt.datetime,
) -> None:
    last = user.last_login_at
    due = last is None or moment - last >= LOGIN_RECORD_INTERVAL
    if not (rehash or user.failed_logins or due):
        return  # nothing to write: most API requests with HTTP Basic
    with transaction(session):
        if rehash:
            user.password_hash = hasher.hash(password)
        if user.failed_logins:
            user.failed_logins = 0
        if due:
            user.last_login_at = moment


def _count_failure(
    session: Session, user: User, count: throttle.Count, address: str | None
) -> None:
    with transaction(session):
        # count in SQL, so concurrent attempts cannot overwrite each other's count
        session.execute(
            sa.update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        )
        if count.failures == throttle.MAX_FAILURES:  # the throttle holds this client back now
            audit.record(
                session,
                Actor(name=user.login, user_id=user.id, source="login"),
                "throttle",
                _ENTITY,
                user.id,
                details={
                    "client": throttle.client_of(address),
                    "failed_logins": count.failures,
                    "until": count.window_ends_at.isoformat(),
                },
            )
    session.expire(user, ["failed_logins"])


def any_exist(session: Session) -> bool:
    """Whether any account exists (with none, the web UI offers to create the first one)."""
    return session.scalar(sa.select(sa.func.count()).select_from(User)) != 0


def create_first_admin(
    session: Session,
    login: str,
    password: str,
    *,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    actor: Actor | None = None,
) -> User:
    """The first account, a global administrator, made by whoever opens a new installation.

    Refused with :class:`Conflict` once any account exists: from then on only an
    administrator creates accounts (``create``).
    """
    if any_exist(session):
        raise Conflict(msg("an account already exists: sign in, or ask an administrator"))
    return create(
        session,
        login,
        actor=actor or Actor.system("setup"),
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_admin=True,
    )


def ensure_admin(
    session: Session,
    login: str = "admin",
    password: str | None = None,
    *,
    actor: Actor | None = None,
) -> tuple[User, str | None]:
    """On first start, create a global administrator; afterwards change nothing.

    With no user in the database, creates ``login`` as an enabled global
    administrator with ``password``, or with a random one that is returned (once:
    only its hash is kept). With users present returns the user ``login``, else
    the first enabled global administrator, and None.
    """
    actor = actor or Actor.system("setup")
    generated = None
    if session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        if password is None:
            generated = password = secrets.token_urlsafe(18)
        try:
            user = create(session, login, actor=actor, password=password, is_admin=True)
        except Conflict:
            pass  # another process created it at the same moment
        else:
            return user, generated
    existing = _find_login(session, login) if isinstance(login, str) else None
    if existing is None:
        existing = session.scalars(
            sa.select(User).where(User.is_admin.is_(True), User.enabled.is_(True)).order_by(User.id)
        ).first()
    if existing is None:
        raise NotFound("administrator", login)
    return existing, None


# --------------------------------------------------------------------------
# Company roles
# --------------------------------------------------------------------------


def _company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound("company", company_id)
    return company


def _membership(session: Session, company_id: int, user_id: int) -> CompanyUser | None:
    return session.scalars(
        sa.select(CompanyUser).where(
            CompanyUser.company_id == company_id, CompanyUser.user_id == user_id
        )
    ).first()


#: what an actor is told who tries to lower or remove their own role in a company
OWN_ROLE_KEPT = msg(
    "you cannot lower or remove your own role in this company; "
    "ask another administrator of the company or a global administrator"
)


def _rank(role: str) -> int:
    """A role's weight: admin over manager over viewer (COMPANY_ROLES lists them so)."""
    return len(COMPANY_ROLES) - COMPANY_ROLES.index(role) if role in COMPANY_ROLES else 0


def _guard_own_role(actor: Actor, member: CompanyUser | None, role: str | None) -> None:
    """A user who is not a global administrator keeps their own role in a company: they
    may not lower it (``role``) nor remove it (``role`` None), so that a company's
    administrator never locks themselves out of it by mistake (Conflict)."""
    if actor.is_admin or member is None or actor.user_id != member.user_id:
        return
    if role is None or _rank(role) < _rank(member.role):
        raise Conflict(OWN_ROLE_KEPT)


def may_change_own_role(actor: Actor, user_id: int) -> bool:
    """Whether the actor may lower or remove the role of ``user_id`` in a company of which
    they are an administrator (what :func:`grant` and :func:`revoke` refuse, for a page
    that leaves the controls out)."""
    return actor.is_admin or actor.user_id != user_id


def grant(
    session: Session, company_id: int, user_id: int, role: str, *, actor: Actor
) -> CompanyUser:
    """Give the user a role (admin, manager, viewer) in the company, replacing any other."""
    if role not in COMPANY_ROLES:
        raise ValidationError(
            msg("invalid role"),
            [
                FieldError(
                    "role",
                    msg(
                        "{role!r} is not one of {choices}",
                        role=role,
                        choices=", ".join(COMPANY_ROLES),
                    ),
                    "",
                )
            ],
        )
    with transaction(session, conflict=msg("the role was changed at the same time; try again")):
        _company(session, company_id)
        get(session, user_id)
        member = _membership(session, company_id, user_id)
        _guard_own_role(actor, member, role)
        if member is None:
            member = CompanyUser(company_id=company_id, user_id=user_id, role=role)
            session.add(member)
            session.flush()
            action = "create"
        elif member.role != role:
            member.role = role
            action = "update"
        else:
            return member
        audit.record(
            session,
            actor,
            action,
            _MEMBERSHIP,
            member.id,
            company_id=company_id,
            details={"user_id": user_id, "role": role},
        )
    return member


def revoke(session: Session, company_id: int, user_id: int, *, actor: Actor) -> None:
    """Take away the user's role in the company."""
    with transaction(session):
        _company(session, company_id)
        get(session, user_id)
        member = _membership(session, company_id, user_id)
        if member is None:
            raise NotFound(
                "membership",
                msg(
                    "of user {user_id} in company {company_id}",
                    user_id=user_id,
                    company_id=company_id,
                ),
            )
        _guard_own_role(actor, member, None)
        audit.record(
            session,
            actor,
            "delete",
            _MEMBERSHIP,
            member.id,
            company_id=company_id,
            details={"user_id": user_id, "role": member.role},
        )
        session.delete(member)


def _page(
    session: Session, condition: sa.ColumnElement[bool], limit: int, offset: int
) -> Page[CompanyUser]:
    query = sa.select(CompanyUser).where(condition)
    return paginate(session, query, CompanyUser.id, limit, offset)


def memberships(
    session: Session, user_id: int, *, limit: int = 100, offset: int = 0
) -> Page[CompanyUser]:
    """The user's company roles."""
    get(session, user_id)
    return _page(session, CompanyUser.user_id == user_id, limit, offset)


@dataclasses.dataclass(frozen=True)
class CompanyRole:
    """A user's role in one company, with the company's name (for a user's page)."""

    company_id: int
    company_name: str
    role: str


def company_roles(session: Session, user_id: int) -> builtins.list[CompanyRole]:
    """The user's roles in every company, by company name (one query)."""
    get(session, user_id)
    rows = session.execute(
        sa.select(Company.id, Company.name, CompanyUser.role)
        .join(CompanyUser, CompanyUser.company_id == Company.id)
        .where(CompanyUser.user_id == user_id)
        .order_by(Company.name, Company.id)
    ).all()
    return [CompanyRole(company_id, name, role) for company_id, name, role in rows]


def held_back(
    session: Session, logins: Iterable[str], *, now: dt.datetime | None = None
) -> set[str]:
    """Those of ``logins`` that the sign-in throttle refuses now from at least one client
    (shown as "locked" to administrators, who may :func:`unlock` them)."""
    return throttle.held_back(session, logins, now=schedules.now_or(now))


def members(
    session: Session, company_id: int, *, limit: int = 100, offset: int = 0
) -> Page[CompanyUser]:
    """The company's users with their roles."""
    _company(session, company_id)
    return _page(session, CompanyUser.company_id == company_id, limit, offset)


__all__ = [
    "COMPANY_ROLES",
    "EMAIL_PATTERN",
    "LANGUAGES",
    "LOGIN_PATTERN",
    "MAX_FAILED_LOGINS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_HASHER",
    "VERIFIED_TTL",
    "AuthenticationFailed",
    "CompanyRole",
    "LoginThrottled",
    "any_exist",
    "authenticate",
    "change_own_password",
    "company_roles",
    "create",
    "create_first_admin",
    "delete",
    "ensure_admin",
    "get",
    "get_by_email",
    "get_by_login",
    "grant",
    "held_back",
    "language_of",
    "list",
    "may_change_own_role",
    "members",
    "memberships",
    "revoke",
    "session_stamp",
    "set_password",
    "unlock",
    "update",
]
