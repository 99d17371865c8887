"""Mapped classes over the tables of :mod:`multiflexi.database.tables`.

The database package owns the tables; these classes only give them Python
names, types and relationships. Business rules live in the modules named after
each concept (companies, runtemplates, jobs, ...), not here.

Every class maps a ``__table__``, so its columns come from the table: the
``Mapped[...]`` annotations of the columns are for type checkers only and sit
under ``if TYPE_CHECKING:``. Declarative would otherwise evaluate each of them
at import (several hundred ``eval`` calls that every command paid at start-up)
and then ignore them, as it does for annotations without a value on a class
with ``__table__``. Relationships keep their annotations at run time: those
give the target class and the collection type.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from multiflexi.core import fieldtypes
from multiflexi.database import tables as t


class Base(DeclarativeBase):
    metadata = t.metadata


class Application(Base):
    __table__ = t.applications

    if TYPE_CHECKING:
        id: Mapped[int]
        uuid: Mapped[str | None]
        name: Mapped[str]
        code: Mapped[str | None]
        title: Mapped[str | None]
        description: Mapped[str | None]
        executable: Mapped[str]
        cmdparams: Mapped[str | None]
        setup: Mapped[str | None]
        deploy: Mapped[str | None]
        homepage: Mapped[str | None]
        version: Mapped[str | None]
        ociimage: Mapped[str | None]
        tags: Mapped[list[str]]
        requirements: Mapped[list[str]]
        image: Mapped[str | None]
        timeout: Mapped[int | None]
        produces: Mapped[Any]
        consumes: Mapped[Any]
        kubernetes: Mapped[Any]
        extra: Mapped[Any]
        source_file: Mapped[str | None]
        schema_version: Mapped[str | None]
        enabled: Mapped[bool]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    fields: Mapped[list[ApplicationField]] = relationship(
        back_populates="application",
        order_by="ApplicationField.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    exit_codes: Mapped[list[ApplicationExitCode]] = relationship(
        order_by="(ApplicationExitCode.exit_code, ApplicationExitCode.lang)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    artifacts: Mapped[list[ApplicationArtifact]] = relationship(
        order_by="ApplicationArtifact.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    translations: Mapped[list[ApplicationTranslation]] = relationship(
        order_by="ApplicationTranslation.lang",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def field(self, name: str) -> ApplicationField | None:
        return next((f for f in self.fields if f.name == name), None)


class ApplicationTranslation(Base):
    __table__ = t.application_translations

    if TYPE_CHECKING:
        id: Mapped[int]
        application_id: Mapped[int]
        lang: Mapped[str]
        name: Mapped[str | None]
        title: Mapped[str | None]
        description: Mapped[str | None]


class ApplicationField(Base):
    __table__ = t.application_fields

    if TYPE_CHECKING:
        id: Mapped[int]
        application_id: Mapped[int]
        name: Mapped[str]
        type: Mapped[str]
        label: Mapped[str | None]
        description: Mapped[str | None]
        hint: Mapped[str | None]
        note: Mapped[str | None]
        category: Mapped[str | None]
        default_value: Mapped[str | None]
        required: Mapped[bool]
        secret: Mapped[bool]
        multiline: Mapped[bool]
        expiring: Mapped[bool]
        options: Mapped[Any]
        secrets: Mapped[str | None]
        secrets_key_id: Mapped[str | None]
        position: Mapped[int]

    application: Mapped[Application] = relationship(back_populates="fields")

    @property
    def is_secret(self) -> bool:
        """Whether the field's values are secret: flagged so, of a secret type, or by name.

        What views should redact by (``secret`` is only the manifest's own flag); see
        :func:`multiflexi.core.fieldtypes.is_secret_field`.
        """
        return fieldtypes.is_secret_field(self.name, self.type, self.secret)


class ApplicationExitCode(Base):
    __table__ = t.application_exit_codes

    if TYPE_CHECKING:
        id: Mapped[int]
        application_id: Mapped[int]
        exit_code: Mapped[int]
        lang: Mapped[str]
        description: Mapped[str]
        severity: Mapped[str]
        retry: Mapped[bool]


class ApplicationArtifact(Base):
    __table__ = t.application_artifacts

    if TYPE_CHECKING:
        id: Mapped[int]
        application_id: Mapped[int]
        pattern: Mapped[str]
        type: Mapped[str]
        name: Mapped[str | None]
        description: Mapped[str | None]
        position: Mapped[int]


class Company(Base):
    __table__ = t.companies

    if TYPE_CHECKING:
        id: Mapped[int]
        name: Mapped[str]
        slug: Mapped[str]
        ic: Mapped[str | None]
        email: Mapped[str | None]
        logo: Mapped[str | None]
        zabbix_host: Mapped[str | None]
        settings: Mapped[Any]
        enabled: Mapped[bool]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    environment: Mapped[list[CompanyVariable]] = relationship(
        order_by="CompanyVariable.name", cascade="all, delete-orphan", passive_deletes=True
    )


class CompanyVariable(Base):
    __table__ = t.company_environment

    if TYPE_CHECKING:
        id: Mapped[int]
        company_id: Mapped[int]
        name: Mapped[str]
        value: Mapped[str]
        secret: Mapped[bool]
        key_id: Mapped[str | None]


class CompanyApplication(Base):
    __table__ = t.company_applications

    if TYPE_CHECKING:
        id: Mapped[int]
        company_id: Mapped[int]
        application_id: Mapped[int]
        created_at: Mapped[dt.datetime]


class User(Base):
    __table__ = t.users

    if TYPE_CHECKING:
        id: Mapped[int]
        login: Mapped[str]
        email: Mapped[str | None]
        first_name: Mapped[str | None]
        last_name: Mapped[str | None]
        password_hash: Mapped[str | None]
        enabled: Mapped[bool]
        is_admin: Mapped[bool]
        settings: Mapped[Any]
        failed_logins: Mapped[int]
        locked_until: Mapped[dt.datetime | None]
        last_login_at: Mapped[dt.datetime | None]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]


class CompanyUser(Base):
    __table__ = t.company_users

    if TYPE_CHECKING:
        id: Mapped[int]
        company_id: Mapped[int]
        user_id: Mapped[int]
        role: Mapped[str]
        created_at: Mapped[dt.datetime]


class ApiToken(Base):
    __table__ = t.api_tokens

    if TYPE_CHECKING:
        id: Mapped[int]
        user_id: Mapped[int]
        name: Mapped[str]
        token_hash: Mapped[str]
        prefix: Mapped[str]
        created_at: Mapped[dt.datetime]
        expires_at: Mapped[dt.datetime | None]
        last_used_at: Mapped[dt.datetime | None]
        revoked_at: Mapped[dt.datetime | None]


class CredentialPrototype(Base):
    __table__ = t.credential_prototypes

    if TYPE_CHECKING:
        id: Mapped[int]
        uuid: Mapped[str]
        code: Mapped[str]
        name: Mapped[str]
        description: Mapped[str | None]
        version: Mapped[str | None]
        url: Mapped[str | None]
        homepage: Mapped[str | None]
        tags: Mapped[list[str]]
        logo: Mapped[str | None]
        translations: Mapped[Any]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    fields: Mapped[list[CredentialPrototypeField]] = relationship(
        order_by="CredentialPrototypeField.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class CredentialPrototypeField(Base):
    __table__ = t.credential_prototype_fields

    if TYPE_CHECKING:
        id: Mapped[int]
        prototype_id: Mapped[int]
        keyword: Mapped[str]
        type: Mapped[str]
        name: Mapped[str | None]
        description: Mapped[str | None]
        hint: Mapped[str | None]
        default_value: Mapped[str | None]
        required: Mapped[bool]
        secret: Mapped[bool]
        options: Mapped[Any]
        translations: Mapped[Any]
        position: Mapped[int]


class CredentialType(Base):
    __table__ = t.credential_types

    if TYPE_CHECKING:
        id: Mapped[int]
        company_id: Mapped[int]
        prototype_id: Mapped[int | None]
        prototype_code: Mapped[str | None]
        uuid: Mapped[str | None]
        name: Mapped[str]
        version: Mapped[str | None]
        url: Mapped[str | None]
        logo: Mapped[str | None]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    prototype: Mapped[CredentialPrototype | None] = relationship()
    fields: Mapped[list[CredentialTypeField]] = relationship(
        order_by="CredentialTypeField.id", cascade="all, delete-orphan", passive_deletes=True
    )
    settings: Mapped[list[CredentialTypeSetting]] = relationship(
        order_by="CredentialTypeSetting.name", cascade="all, delete-orphan", passive_deletes=True
    )


class CredentialTypeField(Base):
    __table__ = t.credential_type_fields

    if TYPE_CHECKING:
        id: Mapped[int]
        credential_type_id: Mapped[int]
        keyword: Mapped[str]
        type: Mapped[str]
        description: Mapped[str | None]
        hint: Mapped[str | None]
        default_value: Mapped[str | None]
        required: Mapped[bool]
        secret: Mapped[bool]
        helper: Mapped[str | None]


class CredentialTypeSetting(Base):
    __table__ = t.credential_type_settings

    if TYPE_CHECKING:
        id: Mapped[int]
        credential_type_id: Mapped[int]
        name: Mapped[str]
        value: Mapped[str]
        value_type: Mapped[str]
        key_id: Mapped[str | None]


class Credential(Base):
    __table__ = t.credentials

    if TYPE_CHECKING:
        id: Mapped[int]
        company_id: Mapped[int]
        credential_type_id: Mapped[int]
        name: Mapped[str]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    credential_type: Mapped[CredentialType] = relationship()
    values: Mapped[list[CredentialValue]] = relationship(
        order_by="CredentialValue.name", cascade="all, delete-orphan", passive_deletes=True
    )


class CredentialValue(Base):
    __table__ = t.credential_values

    if TYPE_CHECKING:
        id: Mapped[int]
        credential_id: Mapped[int]
        name: Mapped[str]
        value: Mapped[str]
        value_type: Mapped[str]
        key_id: Mapped[str | None]


class EncryptionKey(Base):
    __table__ = t.encryption_keys

    if TYPE_CHECKING:
        id: Mapped[int]
        key_id: Mapped[str]
        version: Mapped[int]
        algorithm: Mapped[str]
        wrapped_key: Mapped[str]
        master_fingerprint: Mapped[str]
        is_active: Mapped[bool]
        created_at: Mapped[dt.datetime]
        retired_at: Mapped[dt.datetime | None]


class RunTemplate(Base):
    __table__ = t.run_templates

    #: set by :func:`multiflexi.core.runtemplates.create`: True when creating it assigned
    #: its application to the company (it was not assigned before). Not stored.
    if TYPE_CHECKING:
        assigned_application: bool
    else:
        assigned_application = False

    if TYPE_CHECKING:
        id: Mapped[int]
        company_id: Mapped[int]
        application_id: Mapped[int]
        name: Mapped[str]
        note: Mapped[str | None]
        active: Mapped[bool]
        interval_code: Mapped[str]
        cron: Mapped[str | None]
        delay: Mapped[int]
        timezone: Mapped[str | None]
        executor: Mapped[str]
        queue: Mapped[str]
        timeout: Mapped[int | None]
        max_concurrency: Mapped[int]
        max_attempts: Mapped[int]
        retry_backoff: Mapped[str]
        retry_min_gap: Mapped[int]
        deadline_offset: Mapped[str | None]
        allow_late: Mapped[bool]
        next_schedule: Mapped[dt.datetime | None]
        last_schedule: Mapped[dt.datetime | None]
        success_count: Mapped[int]
        failure_count: Mapped[int]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    application: Mapped[Application] = relationship()
    company: Mapped[Company] = relationship()
    values: Mapped[list[RunTemplateValue]] = relationship(
        order_by="RunTemplateValue.name", cascade="all, delete-orphan", passive_deletes=True
    )
    credential_bindings: Mapped[list[RunTemplateCredential]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    actions: Mapped[list[RunTemplateAction]] = relationship(
        order_by="(RunTemplateAction.mode, RunTemplateAction.position)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class RunTemplateValue(Base):
    __table__ = t.run_template_values

    if TYPE_CHECKING:
        id: Mapped[int]
        run_template_id: Mapped[int]
        name: Mapped[str]
        value: Mapped[str]
        value_type: Mapped[str]
        key_id: Mapped[str | None]


class RunTemplateCredential(Base):
    __table__ = t.run_template_credentials

    if TYPE_CHECKING:
        id: Mapped[int]
        run_template_id: Mapped[int]
        credential_id: Mapped[int]

    credential: Mapped[Credential] = relationship()


class RunTemplateAction(Base):
    __table__ = t.run_template_actions

    if TYPE_CHECKING:
        id: Mapped[int]
        run_template_id: Mapped[int]
        mode: Mapped[str]
        action: Mapped[str]
        enabled: Mapped[bool]
        options: Mapped[Any]
        secrets: Mapped[str | None]
        secrets_key_id: Mapped[str | None]
        position: Mapped[int]


class Task(Base):
    __table__ = t.tasks

    if TYPE_CHECKING:
        id: Mapped[int]
        run_template_id: Mapped[int]
        window_start: Mapped[dt.datetime]
        window_end: Mapped[dt.datetime]
        deadline: Mapped[dt.datetime]
        state: Mapped[str]
        attempts: Mapped[int]
        fulfilled_by_job_id: Mapped[int | None]
        fulfilled_at: Mapped[dt.datetime | None]
        created_at: Mapped[dt.datetime]


class Job(Base):
    __table__ = t.jobs

    #: why a job :func:`multiflexi.core.jobs.launch` made due now did not reach Redis
    #: (the scheduler delivers it later); None when it did. Not stored (annotated for
    #: type checkers only: declarative would try to map it).
    if TYPE_CHECKING:
        undelivered: str | None
    else:
        undelivered = None

    if TYPE_CHECKING:
        id: Mapped[int]
        run_template_id: Mapped[int]
        company_id: Mapped[int]
        application_id: Mapped[int]
        task_id: Mapped[int | None]
        state: Mapped[str]
        schedule_type: Mapped[str]
        scheduled_at: Mapped[dt.datetime]
        queued_at: Mapped[dt.datetime | None]
        started_at: Mapped[dt.datetime | None]
        finished_at: Mapped[dt.datetime | None]
        heartbeat_at: Mapped[dt.datetime | None]
        lease_expires_at: Mapped[dt.datetime | None]
        executor: Mapped[str]
        queue: Mapped[str]
        command: Mapped[Any]
        environment: Mapped[Any]
        overrides: Mapped[str | None]
        overrides_key_id: Mapped[str | None]
        exit_code: Mapped[int | None]
        exit_description: Mapped[str | None]
        severity: Mapped[str | None]
        pid: Mapped[int | None]
        worker: Mapped[str | None]
        attempt: Mapped[int]
        retry_of_id: Mapped[int | None]
        parent_job_id: Mapped[int | None]
        launched_by_user_id: Mapped[int | None]
        launched_by: Mapped[str]
        app_version: Mapped[str | None]
        block_reason: Mapped[str | None]
        blocked_at: Mapped[dt.datetime | None]
        cancel_requested: Mapped[bool]
        output_lines: Mapped[int]
        created_at: Mapped[dt.datetime]
        updated_at: Mapped[dt.datetime | None]

    run_template: Mapped[RunTemplate] = relationship()


class JobOutputLine(Base):
    __table__ = t.job_output_lines

    if TYPE_CHECKING:
        id: Mapped[int]
        job_id: Mapped[int]
        seq: Mapped[int]
        stream: Mapped[str]
        text: Mapped[str]
        created_at: Mapped[dt.datetime]


class Artifact(Base):
    __table__ = t.artifacts

    if TYPE_CHECKING:
        id: Mapped[int]
        job_id: Mapped[int]
        name: Mapped[str]
        type: Mapped[str | None]
        content_type: Mapped[str]
        size: Mapped[int]
    sha256: Mapped[str | None]
    if TYPE_CHECKING:
        content: Mapped[bytes | None]
        path: Mapped[str | None]
        note: Mapped[str | None]
        created_at: Mapped[dt.datetime]


class AuditEntry(Base):
    __table__ = t.audit_log

    if TYPE_CHECKING:
        id: Mapped[int]
        at: Mapped[dt.datetime]
        actor: Mapped[str]
        user_id: Mapped[int | None]
        action: Mapped[str]
        entity_type: Mapped[str]
        entity_id: Mapped[str | None]
        company_id: Mapped[int | None]
        details: Mapped[Any]
        source: Mapped[str | None]


class Lease(Base):
    __table__ = t.leases

    if TYPE_CHECKING:
        name: Mapped[str]
        holder: Mapped[str]
        acquired_at: Mapped[dt.datetime]
        expires_at: Mapped[dt.datetime]


__all__ = [
    "ApiToken",
    "Application",
    "ApplicationArtifact",
    "ApplicationExitCode",
    "ApplicationField",
    "ApplicationTranslation",
    "Artifact",
    "AuditEntry",
    "Base",
    "Company",
    "CompanyApplication",
    "CompanyUser",
    "CompanyVariable",
    "Credential",
    "CredentialPrototype",
    "CredentialPrototypeField",
    "CredentialType",
    "CredentialTypeField",
    "CredentialTypeSetting",
    "CredentialValue",
    "EncryptionKey",
    "Job",
    "JobOutputLine",
    "Lease",
    "RunTemplate",
    "RunTemplateAction",
    "RunTemplateCredential",
    "RunTemplateValue",
    "Task",
    "User",
]
