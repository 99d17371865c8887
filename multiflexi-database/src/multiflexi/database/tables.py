"""Every table of MultiFlexi, in one ``MetaData``.

Conventions:

- snake_case, plural table names, integer surrogate keys named ``id``;
- every timestamp is timezone-aware and stored in UTC (:class:`UTCDateTime`);
- secret values live in a ``value``-like Text column next to a ``key_id`` column:
  ``key_id`` is NULL for a plain value and names the encryption key of a sealed
  one (``ENCRYPTED_COLUMNS`` lists every such pair, for key rotation);
- constraint names come from the naming convention, so migrations are stable
  on SQLite, PostgreSQL and MariaDB alike;
- indexed strings stay at most 255 characters (MariaDB's utf8mb4 key limit);
- MySQL/MariaDB types are chosen when that dialect asks (:class:`UTCDateTime`,
  :class:`LongBinary`), so that importing the tables does not load SQLAlchemy's
  MySQL dialect, which every command on SQLite or PostgreSQL would pay for at start.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

#: every table; Alembic keeps the schema's own version record in ``alembic_version``
metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: the states a job can be in (ARCHITECTURE.md section 3)
JOB_STATES = (
    "scheduled",
    "queued",
    "waiting",
    "running",
    "success",
    "failed",
    "lost",
    "cancelled",
    "blocked",
    "missed",
)
#: company roles; a global administrator is ``users.is_admin``
COMPANY_ROLES = ("admin", "manager", "viewer")
#: interval codes of the original: n(one), i(minute), h, d, w, m, y, c(ron)
INTERVAL_CODES = ("n", "i", "h", "d", "w", "m", "y", "c")
RETRY_BACKOFFS = ("none", "fixed", "linear", "exponential")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime stored as UTC on every backend.

    Naive datetimes are refused on the way in (a naive time is a bug: whose
    local time?); values come back aware, in UTC, also from SQLite.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: MultiFlexi stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        if dialect.name in ("sqlite", "mysql", "mariadb"):
            # these backends keep no offset: store the UTC wall time
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite without detect_types
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class LongBinary(TypeDecorator[bytes]):
    """Binary content of any size: ``LargeBinary``, LONGBLOB on MySQL/MariaDB.

    The same column type as ``LargeBinary().with_variant(mysql.LONGBLOB(), "mysql",
    "mariadb")`` (what the migrations write; MySQL's plain BLOB holds 64 KiB), with
    the MySQL type made only when that dialect asks for it.
    """

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            return dialect.type_descriptor(mysql.LONGBLOB())
        return dialect.type_descriptor(LargeBinary())


#: what stands in for a secret wherever one would be shown: a masked database password
#: here, and every redacted value of the core's faces (multiflexi.core.redaction)
REDACTED = "***"


def utc_now() -> dt.datetime:
    """The current time, timezone-aware in UTC: the one clock of every component."""
    return dt.datetime.now(dt.UTC)


def created_at() -> Column[dt.datetime]:
    return Column("created_at", UTCDateTime(), nullable=False, default=utc_now)


def updated_at() -> Column[dt.datetime]:
    return Column("updated_at", UTCDateTime(), nullable=True, onupdate=utc_now)


def fk(target: str, *, ondelete: str | None = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=ondelete)


# --------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=True, unique=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("code", String(16), nullable=True, unique=True),
    Column("title", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("executable", String(255), nullable=False),
    Column("cmdparams", Text, nullable=True, comment="command-line template with {VAR} macros"),
    Column("setup", Text, nullable=True),
    Column("deploy", Text, nullable=True),
    Column("homepage", String(255), nullable=True),
    Column("version", String(64), nullable=True),
    Column("ociimage", String(255), nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column(
        "requirements",
        JSON,
        nullable=False,
        default=list,
        comment="credential prototype codes the application needs",
    ),
    Column("image", Text, nullable=True, comment="icon as a data: URI"),
    Column("timeout", Integer, nullable=True, comment="seconds; NULL means no limit"),
    Column("produces", JSON, nullable=True),
    Column("consumes", JSON, nullable=True),
    Column("kubernetes", JSON, nullable=True),
    Column("extra", JSON, nullable=True, comment="manifest keys MultiFlexi does not model"),
    Column("source_file", String(255), nullable=True),
    Column("schema_version", String(16), nullable=True),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    created_at(),
    updated_at(),
)

application_translations = Table(
    "application_translations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, fk("applications.id"), nullable=False),
    Column("lang", String(16), nullable=False),
    Column("name", String(255), nullable=True),
    Column("title", String(255), nullable=True),
    Column("description", Text, nullable=True),
    UniqueConstraint("application_id", "lang"),
)

application_fields = Table(
    "application_fields",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, fk("applications.id"), nullable=False),
    Column("name", String(128), nullable=False, comment="environment variable name"),
    Column("type", String(32), nullable=False, default="string"),
    Column("label", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("hint", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("category", String(64), nullable=True),
    Column("default_value", Text, nullable=True),
    Column("required", Boolean, nullable=False, default=False, server_default=false()),
    Column("secret", Boolean, nullable=False, default=False, server_default=false()),
    Column("multiline", Boolean, nullable=False, default=False, server_default=false()),
    Column("expiring", Boolean, nullable=False, default=False, server_default=false()),
    Column("options", JSON, nullable=True, comment="allowed values of a set field"),
    Column("position", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("application_id", "name"),
)

application_exit_codes = Table(
    "application_exit_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, fk("applications.id"), nullable=False),
    Column("exit_code", Integer, nullable=False),
    Column("lang", String(16), nullable=False, default="", server_default=""),
    Column("description", Text, nullable=False, default=""),
    Column("severity", String(16), nullable=False, default="error", server_default="error"),
    Column("retry", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("application_id", "exit_code", "lang"),
)

application_artifacts = Table(
    "application_artifacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, fk("applications.id"), nullable=False, index=True),
    Column("pattern", String(512), nullable=False, comment="regular expression on file names"),
    Column("type", String(128), nullable=False, default="file"),
    Column("name", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("position", Integer, nullable=False, default=0, server_default="0"),
)

# --------------------------------------------------------------------------
# Companies and users
# --------------------------------------------------------------------------

companies = Table(
    "companies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("slug", String(64), nullable=False, unique=True),
    Column("ic", String(32), nullable=True, comment="company registration number"),
    Column("email", String(255), nullable=True),
    Column("logo", Text, nullable=True),
    Column("zabbix_host", String(255), nullable=True),
    Column("settings", JSON, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    created_at(),
    updated_at(),
)

company_environment = Table(
    "company_environment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, fk("companies.id"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("value", Text, nullable=False, default=""),
    Column("secret", Boolean, nullable=False, default=False, server_default=false()),
    Column("key_id", String(64), nullable=True, comment="NULL: plain value; else sealed"),
    UniqueConstraint("company_id", "name"),
)

company_applications = Table(
    "company_applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, fk("companies.id"), nullable=False),
    Column("application_id", Integer, fk("applications.id"), nullable=False, index=True),
    created_at(),
    UniqueConstraint("company_id", "application_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(128), nullable=False, unique=True),
    Column("email", String(255), nullable=True),
    Column("first_name", String(128), nullable=True),
    Column("last_name", String(128), nullable=True),
    Column("password_hash", String(255), nullable=True, comment="argon2/bcrypt; NULL: no login"),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("is_admin", Boolean, nullable=False, default=False, server_default=false()),
    Column("settings", JSON, nullable=True),
    Column("failed_logins", Integer, nullable=False, default=0, server_default="0"),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("last_login_at", UTCDateTime(), nullable=True),
    created_at(),
    updated_at(),
)

company_users = Table(
    "company_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, fk("companies.id"), nullable=False),
    Column("user_id", Integer, fk("users.id"), nullable=False, index=True),
    Column("role", String(16), nullable=False, default="viewer", server_default="viewer"),
    created_at(),
    UniqueConstraint("company_id", "user_id"),
    CheckConstraint("role IN ('admin', 'manager', 'viewer')", name="role"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, fk("users.id"), nullable=False, index=True),
    Column("name", String(255), nullable=False, default=""),
    Column("token_hash", String(128), nullable=False, unique=True, comment="SHA-256 hex"),
    Column("prefix", String(16), nullable=False, comment="first characters, to recognise it"),
    created_at(),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("last_used_at", UTCDateTime(), nullable=True),
    Column("revoked_at", UTCDateTime(), nullable=True),
)

# --------------------------------------------------------------------------
# Credentials
# --------------------------------------------------------------------------

credential_prototypes = Table(
    "credential_prototypes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("version", String(32), nullable=True),
    Column("url", String(255), nullable=True),
    Column("homepage", String(255), nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("logo", Text, nullable=True),
    Column("translations", JSON, nullable=True),
    created_at(),
    updated_at(),
)

credential_prototype_fields = Table(
    "credential_prototype_fields",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prototype_id", Integer, fk("credential_prototypes.id"), nullable=False),
    Column("keyword", String(128), nullable=False),
    Column("type", String(32), nullable=False, default="string"),
    Column("name", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("hint", Text, nullable=True),
    Column("default_value", Text, nullable=True),
    Column("required", Boolean, nullable=False, default=False, server_default=false()),
    Column("secret", Boolean, nullable=False, default=False, server_default=false()),
    Column("options", JSON, nullable=True),
    Column("translations", JSON, nullable=True),
    Column("position", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("prototype_id", "keyword"),
)

credential_types = Table(
    "credential_types",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, fk("companies.id"), nullable=False, index=True),
    Column(
        "prototype_id",
        Integer,
        fk("credential_prototypes.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column(
        "prototype_code", String(64), nullable=True, comment="requirement code this type satisfies"
    ),
    Column("uuid", String(36), nullable=True, unique=True),
    Column("name", String(255), nullable=False),
    Column("version", String(32), nullable=True),
    Column("url", String(255), nullable=True),
    Column("logo", Text, nullable=True),
    created_at(),
    updated_at(),
)

credential_type_fields = Table(
    "credential_type_fields",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("credential_type_id", Integer, fk("credential_types.id"), nullable=False),
    Column("keyword", String(128), nullable=False),
    Column("type", String(32), nullable=False, default="string"),
    Column("description", Text, nullable=True),
    Column("hint", Text, nullable=True),
    Column("default_value", Text, nullable=True),
    Column("required", Boolean, nullable=False, default=False, server_default=false()),
    Column("secret", Boolean, nullable=False, default=False, server_default=false()),
    Column(
        "helper",
        String(128),
        nullable=True,
        comment="prototype field that supplies this field's value",
    ),
    UniqueConstraint("credential_type_id", "keyword"),
)

credential_type_settings = Table(
    "credential_type_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("credential_type_id", Integer, fk("credential_types.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Text, nullable=False, default=""),
    Column("value_type", String(32), nullable=False, default="string"),
    Column("key_id", String(64), nullable=True),
    UniqueConstraint("credential_type_id", "name"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, fk("companies.id"), nullable=False, index=True),
    Column(
        "credential_type_id",
        Integer,
        fk("credential_types.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("name", String(255), nullable=False),
    created_at(),
    updated_at(),
    UniqueConstraint("company_id", "name"),
)

credential_values = Table(
    "credential_values",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("credential_id", Integer, fk("credentials.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Text, nullable=False, default=""),
    Column("value_type", String(32), nullable=False, default="string"),
    Column("key_id", String(64), nullable=True),
    UniqueConstraint("credential_id", "name"),
)

encryption_keys = Table(
    "encryption_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("version", Integer, nullable=False, unique=True),
    Column("algorithm", String(32), nullable=False, default="AES-256-GCM"),
    Column("wrapped_key", Text, nullable=False, comment="data key sealed by the master key"),
    Column("master_fingerprint", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True, server_default=true()),
    created_at(),
    Column("retired_at", UTCDateTime(), nullable=True),
)

# --------------------------------------------------------------------------
# Run templates
# --------------------------------------------------------------------------

run_templates = Table(
    "run_templates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_id", Integer, fk("companies.id"), nullable=False, index=True),
    Column("application_id", Integer, fk("applications.id", ondelete="RESTRICT"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("note", Text, nullable=True),
    Column("active", Boolean, nullable=False, default=True, server_default=true()),
    Column("interval_code", String(1), nullable=False, default="n", server_default="n"),
    Column("cron", String(128), nullable=True),
    Column(
        "delay",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        comment="seconds added to each occurrence",
    ),
    Column("timezone", String(64), nullable=True, comment="IANA zone; NULL: the default"),
    Column("executor", String(32), nullable=False, default="native", server_default="native"),
    Column("queue", String(64), nullable=False, default="default", server_default="default"),
    Column("timeout", Integer, nullable=True, comment="seconds; NULL: application's or none"),
    Column("max_concurrency", Integer, nullable=False, default=1, server_default="1"),
    Column("max_attempts", Integer, nullable=False, default=1, server_default="1"),
    Column("retry_backoff", String(16), nullable=False, default="none", server_default="none"),
    Column(
        "retry_min_gap", Integer, nullable=False, default=0, server_default="0", comment="seconds"
    ),
    Column("deadline_offset", String(32), nullable=True),
    Column("allow_late", Boolean, nullable=False, default=False, server_default=false()),
    Column("next_schedule", UTCDateTime(), nullable=True),
    Column("last_schedule", UTCDateTime(), nullable=True),
    Column("success_count", Integer, nullable=False, default=0, server_default="0"),
    Column("failure_count", Integer, nullable=False, default=0, server_default="0"),
    created_at(),
    updated_at(),
    Index(None, "application_id", "company_id"),
    Index(None, "active", "next_schedule"),
    CheckConstraint(
        "interval_code IN ('n', 'i', 'h', 'd', 'w', 'm', 'y', 'c')", name="interval_code"
    ),
    CheckConstraint(
        f"retry_backoff IN ({', '.join(repr(b) for b in RETRY_BACKOFFS)})", name="retry_backoff"
    ),
    CheckConstraint("max_concurrency >= 1", name="max_concurrency"),
    CheckConstraint("delay >= 0", name="delay"),
)

run_template_values = Table(
    "run_template_values",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_template_id", Integer, fk("run_templates.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Text, nullable=False, default=""),
    Column("value_type", String(32), nullable=False, default="string"),
    Column("key_id", String(64), nullable=True),
    UniqueConstraint("run_template_id", "name"),
)

run_template_credentials = Table(
    "run_template_credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_template_id", Integer, fk("run_templates.id"), nullable=False),
    Column("credential_id", Integer, fk("credentials.id"), nullable=False, index=True),
    UniqueConstraint("run_template_id", "credential_id"),
)

run_template_actions = Table(
    "run_template_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_template_id", Integer, fk("run_templates.id"), nullable=False),
    Column("mode", String(16), nullable=False, comment="success or failure"),
    Column("action", String(64), nullable=False, comment="entry point name"),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("options", JSON, nullable=True, comment="plain options; a secret one holds ***"),
    Column("secrets", Text, nullable=True, comment="the secret options as JSON, sealed"),
    Column("secrets_key_id", String(64), nullable=True),
    Column("position", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("run_template_id", "mode", "action"),
    CheckConstraint("mode IN ('success', 'failure')", name="mode"),
)

# --------------------------------------------------------------------------
# Schedule windows (tasks) and jobs
# --------------------------------------------------------------------------

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_template_id", Integer, fk("run_templates.id"), nullable=False),
    Column("window_start", UTCDateTime(), nullable=False),
    Column("window_end", UTCDateTime(), nullable=False),
    Column("deadline", UTCDateTime(), nullable=False),
    Column("state", String(16), nullable=False, default="open", server_default="open"),
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("fulfilled_by_job_id", Integer, nullable=True),
    Column("fulfilled_at", UTCDateTime(), nullable=True),
    created_at(),
    UniqueConstraint("run_template_id", "window_start"),
    Index(None, "state", "window_end"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_template_id", Integer, fk("run_templates.id"), nullable=False),
    Column("company_id", Integer, fk("companies.id"), nullable=False),
    Column(
        "application_id",
        Integer,
        fk("applications.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("task_id", Integer, fk("tasks.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("state", String(16), nullable=False, default="scheduled", server_default="scheduled"),
    Column("schedule_type", String(32), nullable=False, default="adhoc"),
    Column("scheduled_at", UTCDateTime(), nullable=False, comment="when it is due"),
    Column("queued_at", UTCDateTime(), nullable=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True),
    Column("lease_expires_at", UTCDateTime(), nullable=True),
    Column("executor", String(32), nullable=False, default="native"),
    Column("queue", String(64), nullable=False, default="default"),
    Column("command", JSON, nullable=True, comment="argument list, secrets masked"),
    Column("environment", JSON, nullable=True, comment="name -> value, secrets redacted"),
    Column("overrides", Text, nullable=True, comment="one-time launch overrides, sealed"),
    Column("overrides_key_id", String(64), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("exit_description", Text, nullable=True),
    Column("severity", String(16), nullable=True),
    Column("pid", Integer, nullable=True),
    Column("worker", String(255), nullable=True),
    Column("attempt", Integer, nullable=False, default=1, server_default="1"),
    Column("retry_of_id", Integer, fk("jobs.id", ondelete="SET NULL"), nullable=True, index=True),
    Column(
        "parent_job_id",
        Integer,
        fk("jobs.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
        comment="the job whose action launched this one",
    ),
    Column(
        "launched_by_user_id",
        Integer,
        fk("users.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    Column(
        "launched_by",
        String(255),
        nullable=False,
        default="system",
        comment="who or what launched it: a login, 'scheduler', 'cli:<unix user>'",
    ),
    Column("app_version", String(64), nullable=True),
    Column("block_reason", Text, nullable=True),
    Column("blocked_at", UTCDateTime(), nullable=True, comment="when a credential check held it"),
    Column("cancel_requested", Boolean, nullable=False, default=False, server_default=false()),
    Column("output_lines", Integer, nullable=False, default=0, server_default="0"),
    created_at(),
    updated_at(),
    Index(None, "state", "scheduled_at"),
    Index(None, "run_template_id", "state"),
    Index(None, "run_template_id", "id"),
    Index(None, "company_id", "id"),
    # a company's jobs in one state: counted and paged from the index alone
    Index(None, "company_id", "state", "id"),
    Index(None, "finished_at"),
    # the job list's filters, each paged newest first from its index alone
    Index(None, "application_id", "id"),
    Index(None, "launched_by", "id"),
    Index(None, "schedule_type", "id"),
    Index(None, "scheduled_at"),
    CheckConstraint(
        "state IN (" + ", ".join(f"'{s}'" for s in JOB_STATES) + ")",
        name="state",
    ),
)

job_counts = Table(
    "job_counts",
    metadata,
    Column("company_id", Integer, fk("companies.id"), primary_key=True),
    Column("total", BigInteger, nullable=False, default=0, server_default="0"),
    comment="number of jobs per company, kept by the core where jobs are created and deleted",
)

job_output_lines = Table(
    "job_output_lines",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("job_id", Integer, fk("jobs.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("stream", String(8), nullable=False, default="stdout"),
    Column("text", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False, default=utc_now),
    UniqueConstraint("job_id", "seq"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, fk("jobs.id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("type", String(128), nullable=True),
    Column("content_type", String(128), nullable=False, default="application/octet-stream"),
    Column("size", BigInteger, nullable=False, default=0),
    Column("sha256", String(64), nullable=True),
    Column("content", LongBinary(), nullable=True),
    Column("path", Text, nullable=True, comment="where the content lives when not stored inline"),
    Column("note", Text, nullable=True),
    created_at(),
)

# --------------------------------------------------------------------------
# Audit and coordination
# --------------------------------------------------------------------------

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime(), nullable=False, default=utc_now, index=True),
    Column("actor", String(255), nullable=False, comment="login, 'scheduler', 'cli:<user>'"),
    Column("user_id", Integer, fk("users.id", ondelete="SET NULL"), nullable=True, index=True),
    Column("action", String(32), nullable=False),
    Column("entity_type", String(64), nullable=False),
    Column("entity_id", String(64), nullable=True),
    Column(
        "company_id", Integer, fk("companies.id", ondelete="SET NULL"), nullable=True, index=True
    ),
    Column("details", JSON, nullable=True, comment="what changed, secrets redacted"),
    Column("source", String(64), nullable=True, comment="api, cli, web, ip address"),
    Index(None, "entity_type", "entity_id"),
    Index(None, "actor", "id"),  # the "who" filter, newest first
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True, comment="e.g. 'scheduler', 'slot:rt:5:0'"),
    Column("holder", String(255), nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("key", String(64), primary_key=True, comment="keyed hash of client address and login"),
    Column("login_key", String(64), nullable=False, index=True, comment="keyed hash of the login"),
    Column("failures", Integer, nullable=False, default=0, server_default="0"),
    Column("window_ends_at", UTCDateTime(), nullable=False, index=True),
    comment="failed logins per client address and login, for the sign-in throttle",
)

#: (table, value column, key-id column) of every value that may be sealed:
#: a row is encrypted when its key-id column is not NULL
ENCRYPTED_COLUMNS: list[tuple[str, str, str]] = [
    ("company_environment", "value", "key_id"),
    ("run_template_values", "value", "key_id"),
    ("credential_type_settings", "value", "key_id"),
    ("credential_values", "value", "key_id"),
    ("jobs", "overrides", "overrides_key_id"),
    ("run_template_actions", "secrets", "secrets_key_id"),
]

__all__ = [
    "COMPANY_ROLES",
    "ENCRYPTED_COLUMNS",
    "INTERVAL_CODES",
    "JOB_STATES",
    "REDACTED",
    "RETRY_BACKOFFS",
    "LongBinary",
    "UTCDateTime",
    "metadata",
    "utc_now",
]
