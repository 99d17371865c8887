"""initial schema

Revision ID: 54a88babde01
Revises:
Created: 2026-11-26 18:12:45.024872
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "54a88babde01"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: a timezone-aware timestamp, kept in UTC; microseconds on MariaDB/MySQL too
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("executable", sa.String(length=255), nullable=False),
        sa.Column(
            "cmdparams", sa.Text(), nullable=True, comment="command-line template with {VAR} macros"
        ),
        sa.Column("setup", sa.Text(), nullable=True),
        sa.Column("deploy", sa.Text(), nullable=True),
        sa.Column("homepage", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("ociimage", sa.String(length=255), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column(
            "requirements",
            sa.JSON(),
            nullable=False,
            comment="credential prototype codes the application needs",
        ),
        sa.Column("image", sa.Text(), nullable=True, comment="icon as a data: URI"),
        sa.Column("timeout", sa.Integer(), nullable=True, comment="seconds; NULL means no limit"),
        sa.Column("produces", sa.JSON(), nullable=True),
        sa.Column("consumes", sa.JSON(), nullable=True),
        sa.Column("kubernetes", sa.JSON(), nullable=True),
        sa.Column(
            "extra", sa.JSON(), nullable=True, comment="manifest keys MultiFlexi does not model"
        ),
        sa.Column("source_file", sa.String(length=255), nullable=True),
        sa.Column("schema_version", sa.String(length=16), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("code", name=op.f("uq_applications_code")),
        sa.UniqueConstraint("name", name=op.f("uq_applications_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_applications_uuid")),
    )
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("ic", sa.String(length=32), nullable=True, comment="company registration number"),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("logo", sa.Text(), nullable=True),
        sa.Column("zabbix_host", sa.String(length=255), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("slug", name=op.f("uq_companies_slug")),
    )
    op.create_table(
        "credential_prototypes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=255), nullable=True),
        sa.Column("homepage", sa.String(length=255), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("logo", sa.Text(), nullable=True),
        sa.Column("translations", sa.JSON(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_prototypes")),
        sa.UniqueConstraint("code", name=op.f("uq_credential_prototypes_code")),
        sa.UniqueConstraint("uuid", name=op.f("uq_credential_prototypes_uuid")),
    )
    op.create_table(
        "encryption_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column(
            "wrapped_key", sa.Text(), nullable=False, comment="data key sealed by the master key"
        ),
        sa.Column("master_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("retired_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encryption_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_encryption_keys_key_id")),
        sa.UniqueConstraint("version", name=op.f("uq_encryption_keys_version")),
    )
    op.create_table(
        "leases",
        sa.Column(
            "name", sa.String(length=128), nullable=False, comment="e.g. 'scheduler', 'slot:rt:5:0'"
        ),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_index(op.f("ix_leases_expires_at"), "leases", ["expires_at"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("first_name", sa.String(length=128), nullable=True),
        sa.Column("last_name", sa.String(length=128), nullable=True),
        sa.Column(
            "password_hash",
            sa.String(length=255),
            nullable=True,
            comment="argon2/bcrypt; NULL: no login",
        ),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.Column("last_login_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False, comment="SHA-256 hex"),
        sa.Column(
            "prefix",
            sa.String(length=16),
            nullable=False,
            comment="first characters, to recognise it",
        ),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("last_used_at", UTC_DATETIME, nullable=True),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])

    op.create_table(
        "application_artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "pattern",
            sa.String(length=512),
            nullable=False,
            comment="regular expression on file names",
        ),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_artifacts_application_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_artifacts")),
    )
    op.create_index(
        op.f("ix_application_artifacts_application_id"), "application_artifacts", ["application_id"]
    )

    op.create_table(
        "application_exit_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=16), server_default="", nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), server_default="error", nullable=False),
        sa.Column("retry", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_exit_codes_application_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_exit_codes")),
        sa.UniqueConstraint(
            "application_id",
            "exit_code",
            "lang",
            name=op.f("uq_application_exit_codes_application_id_exit_code_lang"),
        ),
    )
    op.create_table(
        "application_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "name", sa.String(length=128), nullable=False, comment="environment variable name"
        ),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("default_value", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("multiline", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("expiring", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True, comment="allowed values of a set field"),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_fields_application_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_fields")),
        sa.UniqueConstraint(
            "application_id", "name", name=op.f("uq_application_fields_application_id_name")
        ),
    )
    op.create_table(
        "application_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_translations_application_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_translations")),
        sa.UniqueConstraint(
            "application_id", "lang", name=op.f("uq_application_translations_application_id_lang")
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column(
            "actor",
            sa.String(length=255),
            nullable=False,
            comment="login, 'scheduler', 'cli:<user>'",
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True, comment="what changed, secrets redacted"),
        sa.Column(
            "source", sa.String(length=64), nullable=True, comment="api, cli, web, ip address"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_audit_log_company_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_company_id"), "audit_log", ["company_id"])
    op.create_index(
        op.f("ix_audit_log_entity_type_audit_log_entity_id"),
        "audit_log",
        ["entity_type", "entity_id"],
    )
    op.create_index(op.f("ix_audit_log_user_id"), "audit_log", ["user_id"])

    op.create_table(
        "company_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_company_applications_application_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_applications_company_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_applications")),
        sa.UniqueConstraint(
            "company_id",
            "application_id",
            name=op.f("uq_company_applications_company_id_application_id"),
        ),
    )
    op.create_index(
        op.f("ix_company_applications_application_id"), "company_applications", ["application_id"]
    )

    op.create_table(
        "company_environment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "key_id", sa.String(length=64), nullable=True, comment="NULL: plain value; else sealed"
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_environment_company_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_environment")),
        sa.UniqueConstraint(
            "company_id", "name", name=op.f("uq_company_environment_company_id_name")
        ),
    )
    op.create_table(
        "company_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="viewer", nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'manager', 'viewer')", name=op.f("ck_company_users_role")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_users_company_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_company_users_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_users")),
        sa.UniqueConstraint(
            "company_id", "user_id", name=op.f("uq_company_users_company_id_user_id")
        ),
    )
    op.create_index(op.f("ix_company_users_user_id"), "company_users", ["user_id"])

    op.create_table(
        "credential_prototype_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prototype_id", sa.Integer(), nullable=False),
        sa.Column("keyword", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("default_value", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("translations", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["prototype_id"],
            ["credential_prototypes.id"],
            name=op.f("fk_credential_prototype_fields_prototype_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_prototype_fields")),
        sa.UniqueConstraint(
            "prototype_id",
            "keyword",
            name=op.f("uq_credential_prototype_fields_prototype_id_keyword"),
        ),
    )
    op.create_table(
        "credential_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("prototype_id", sa.Integer(), nullable=True),
        sa.Column(
            "prototype_code",
            sa.String(length=64),
            nullable=True,
            comment="requirement code this type satisfies",
        ),
        sa.Column("uuid", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=255), nullable=True),
        sa.Column("logo", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_credential_types_company_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prototype_id"],
            ["credential_prototypes.id"],
            name=op.f("fk_credential_types_prototype_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_types")),
        sa.UniqueConstraint("uuid", name=op.f("uq_credential_types_uuid")),
    )
    op.create_index(op.f("ix_credential_types_company_id"), "credential_types", ["company_id"])
    op.create_index(op.f("ix_credential_types_prototype_id"), "credential_types", ["prototype_id"])

    op.create_table(
        "run_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("interval_code", sa.String(length=1), server_default="n", nullable=False),
        sa.Column("cron", sa.String(length=128), nullable=True),
        sa.Column(
            "delay",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="seconds added to each occurrence",
        ),
        sa.Column(
            "timezone", sa.String(length=64), nullable=True, comment="IANA zone; NULL: the default"
        ),
        sa.Column("executor", sa.String(length=32), server_default="native", nullable=False),
        sa.Column("queue", sa.String(length=64), server_default="default", nullable=False),
        sa.Column(
            "timeout", sa.Integer(), nullable=True, comment="seconds; NULL: application's or none"
        ),
        sa.Column("max_concurrency", sa.Integer(), server_default="1", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("retry_backoff", sa.String(length=16), server_default="none", nullable=False),
        sa.Column(
            "retry_min_gap", sa.Integer(), server_default="0", nullable=False, comment="seconds"
        ),
        sa.Column("deadline_offset", sa.String(length=32), nullable=True),
        sa.Column("allow_late", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("next_schedule", UTC_DATETIME, nullable=True),
        sa.Column("last_schedule", UTC_DATETIME, nullable=True),
        sa.Column("success_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint(
            "interval_code IN ('n', 'i', 'h', 'd', 'w', 'm', 'y', 'c')",
            name=op.f("ck_run_templates_interval_code"),
        ),
        sa.CheckConstraint(
            "retry_backoff IN ('none', 'fixed', 'linear', 'exponential')",
            name=op.f("ck_run_templates_retry_backoff"),
        ),
        sa.CheckConstraint("delay >= 0", name=op.f("ck_run_templates_delay")),
        sa.CheckConstraint("max_concurrency >= 1", name=op.f("ck_run_templates_max_concurrency")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_run_templates_application_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_run_templates_company_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_templates")),
    )
    op.create_index(
        op.f("ix_run_templates_active_run_templates_next_schedule"),
        "run_templates",
        ["active", "next_schedule"],
    )
    op.create_index(
        op.f("ix_run_templates_application_id_run_templates_company_id"),
        "run_templates",
        ["application_id", "company_id"],
    )
    op.create_index(op.f("ix_run_templates_company_id"), "run_templates", ["company_id"])

    op.create_table(
        "credential_type_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_type_id", sa.Integer(), nullable=False),
        sa.Column("keyword", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("hint", sa.Text(), nullable=True),
        sa.Column("default_value", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "helper",
            sa.String(length=128),
            nullable=True,
            comment="prototype field that supplies this field's value",
        ),
        sa.ForeignKeyConstraint(
            ["credential_type_id"],
            ["credential_types.id"],
            name=op.f("fk_credential_type_fields_credential_type_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_type_fields")),
        sa.UniqueConstraint(
            "credential_type_id",
            "keyword",
            name=op.f("uq_credential_type_fields_credential_type_id_keyword"),
        ),
    )
    op.create_table(
        "credential_type_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_type_id"],
            ["credential_types.id"],
            name=op.f("fk_credential_type_settings_credential_type_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_type_settings")),
        sa.UniqueConstraint(
            "credential_type_id",
            "name",
            name=op.f("uq_credential_type_settings_credential_type_id_name"),
        ),
    )
    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("credential_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_credentials_company_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["credential_type_id"],
            ["credential_types.id"],
            name=op.f("fk_credentials_credential_type_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("company_id", "name", name=op.f("uq_credentials_company_id_name")),
    )
    op.create_index(op.f("ix_credentials_company_id"), "credentials", ["company_id"])
    op.create_index(
        op.f("ix_credentials_credential_type_id"), "credentials", ["credential_type_id"]
    )

    op.create_table(
        "run_template_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_template_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False, comment="success or failure"),
        sa.Column("action", sa.String(length=64), nullable=False, comment="entry point name"),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "mode IN ('success', 'failure')", name=op.f("ck_run_template_actions_mode")
        ),
        sa.ForeignKeyConstraint(
            ["run_template_id"],
            ["run_templates.id"],
            name=op.f("fk_run_template_actions_run_template_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_template_actions")),
        sa.UniqueConstraint(
            "run_template_id",
            "mode",
            "action",
            name=op.f("uq_run_template_actions_run_template_id_mode_action"),
        ),
    )
    op.create_table(
        "run_template_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_template_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_template_id"],
            ["run_templates.id"],
            name=op.f("fk_run_template_values_run_template_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_template_values")),
        sa.UniqueConstraint(
            "run_template_id", "name", name=op.f("uq_run_template_values_run_template_id_name")
        ),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_template_id", sa.Integer(), nullable=False),
        sa.Column("window_start", UTC_DATETIME, nullable=False),
        sa.Column("window_end", UTC_DATETIME, nullable=False),
        sa.Column("deadline", UTC_DATETIME, nullable=False),
        sa.Column("state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fulfilled_by_job_id", sa.Integer(), nullable=True),
        sa.Column("fulfilled_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_template_id"],
            ["run_templates.id"],
            name=op.f("fk_tasks_run_template_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint(
            "run_template_id", "window_start", name=op.f("uq_tasks_run_template_id_window_start")
        ),
    )
    op.create_index(op.f("ix_tasks_state_tasks_window_end"), "tasks", ["state", "window_end"])

    op.create_table(
        "credential_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_credential_values_credential_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_values")),
        sa.UniqueConstraint(
            "credential_id", "name", name=op.f("uq_credential_values_credential_id_name")
        ),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_template_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), server_default="scheduled", nullable=False),
        sa.Column("schedule_type", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", UTC_DATETIME, nullable=False, comment="when it is due"),
        sa.Column("queued_at", UTC_DATETIME, nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("heartbeat_at", UTC_DATETIME, nullable=True),
        sa.Column("lease_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("executor", sa.String(length=32), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("command", sa.JSON(), nullable=True, comment="argument list, secrets masked"),
        sa.Column(
            "environment", sa.JSON(), nullable=True, comment="name -> value, secrets redacted"
        ),
        sa.Column(
            "overrides", sa.Text(), nullable=True, comment="one-time launch overrides, sealed"
        ),
        sa.Column("overrides_key_id", sa.String(length=64), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("exit_description", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(length=255), nullable=True),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("retry_of_id", sa.Integer(), nullable=True),
        sa.Column(
            "parent_job_id",
            sa.Integer(),
            nullable=True,
            comment="the job whose action launched this one",
        ),
        sa.Column("launched_by_user_id", sa.Integer(), nullable=True),
        sa.Column(
            "launched_by",
            sa.String(length=255),
            nullable=False,
            comment="who or what launched it: a login, 'scheduler', 'cli:<unix user>'",
        ),
        sa.Column("app_version", sa.String(length=64), nullable=True),
        sa.Column("block_reason", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("output_lines", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=True),
        sa.CheckConstraint(
            "state IN ('scheduled', 'queued', 'waiting', 'running', 'success', 'failed', 'lost', 'cancelled', 'blocked', 'missed')",
            name=op.f("ck_jobs_state"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_jobs_application_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_jobs_company_id"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["launched_by_user_id"],
            ["users.id"],
            name=op.f("fk_jobs_launched_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_job_id"], ["jobs.id"], name=op.f("fk_jobs_parent_job_id"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["retry_of_id"], ["jobs.id"], name=op.f("fk_jobs_retry_of_id"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_template_id"],
            ["run_templates.id"],
            name=op.f("fk_jobs_run_template_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_jobs_task_id"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_application_id"), "jobs", ["application_id"])
    op.create_index(op.f("ix_jobs_company_id_jobs_id"), "jobs", ["company_id", "id"])
    op.create_index(op.f("ix_jobs_finished_at"), "jobs", ["finished_at"])
    op.create_index(op.f("ix_jobs_launched_by_user_id"), "jobs", ["launched_by_user_id"])
    op.create_index(op.f("ix_jobs_parent_job_id"), "jobs", ["parent_job_id"])
    op.create_index(op.f("ix_jobs_retry_of_id"), "jobs", ["retry_of_id"])
    op.create_index(op.f("ix_jobs_run_template_id_jobs_id"), "jobs", ["run_template_id", "id"])
    op.create_index(
        op.f("ix_jobs_run_template_id_jobs_state"), "jobs", ["run_template_id", "state"]
    )
    op.create_index(op.f("ix_jobs_state_jobs_scheduled_at"), "jobs", ["state", "scheduled_at"])
    op.create_index(op.f("ix_jobs_task_id"), "jobs", ["task_id"])

    op.create_table(
        "run_template_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_template_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_run_template_credentials_credential_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_template_id"],
            ["run_templates.id"],
            name=op.f("fk_run_template_credentials_run_template_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_template_credentials")),
        sa.UniqueConstraint(
            "run_template_id",
            "credential_id",
            name=op.f("uq_run_template_credentials_run_template_id_credential_id"),
        ),
    )
    op.create_index(
        op.f("ix_run_template_credentials_credential_id"),
        "run_template_credentials",
        ["credential_id"],
    )

    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "content",
            sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column(
            "path",
            sa.Text(),
            nullable=True,
            comment="where the content lives when not stored inline",
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_artifacts_job_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
    )
    op.create_index(op.f("ix_artifacts_job_id"), "artifacts", ["job_id"])

    op.create_table(
        "job_output_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_output_lines_job_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_output_lines")),
        sa.UniqueConstraint("job_id", "seq", name=op.f("uq_job_output_lines_job_id_seq")),
    )


def downgrade() -> None:
    # dropping a table drops its indexes; MariaDB refuses to drop an index an FK needs
    op.drop_table("job_output_lines")
    op.drop_table("artifacts")
    op.drop_table("run_template_credentials")
    op.drop_table("jobs")
    op.drop_table("credential_values")
    op.drop_table("tasks")
    op.drop_table("run_template_values")
    op.drop_table("run_template_actions")
    op.drop_table("credentials")
    op.drop_table("credential_type_settings")
    op.drop_table("credential_type_fields")
    op.drop_table("run_templates")
    op.drop_table("credential_types")
    op.drop_table("credential_prototype_fields")
    op.drop_table("company_users")
    op.drop_table("company_environment")
    op.drop_table("company_applications")
    op.drop_table("audit_log")
    op.drop_table("application_translations")
    op.drop_table("application_fields")
    op.drop_table("application_exit_codes")
    op.drop_table("application_artifacts")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("leases")
    op.drop_table("encryption_keys")
    op.drop_table("credential_prototypes")
    op.drop_table("companies")
    op.drop_table("applications")
