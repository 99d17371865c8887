"""Application manifests and credential definitions: read, check, normalise, write.

The parse/export functions are pure; the import/export functions that take a
session put documents into the database and take them out. Bad input raises
`multiflexi.core.errors.ValidationError` and changes nothing.
"""

from multiflexi.core.manifests.credential_export import credential_type_to_json, prototype_to_json
from multiflexi.core.manifests.credential_model import (
    CREDENTIAL_TYPE_FIELD_TYPES,
    PROTOTYPE_FIELD_TYPES,
    CredentialPrototype,
    CredentialTypeDefinition,
    CredentialTypeField,
    Option,
    PrototypeField,
)
from multiflexi.core.manifests.credential_parse import (
    ParsedCredentialType,
    ParsedPrototype,
    credential_kind,
    parse_credential_prototype,
    parse_credential_type,
)
from multiflexi.core.manifests.export import dump_manifest, manifest_to_json
from multiflexi.core.manifests.importer import (
    ImportPreview,
    ImportResult,
    PrototypeImportPreview,
    PrototypeImportResult,
    application_manifest,
    export_credential_prototype,
    export_manifest,
    import_credential_prototype,
    import_manifest,
    preview_credential_prototype,
    preview_manifest,
    stored_prototype,
)
from multiflexi.core.manifests.localized import LANGUAGES, Localized
from multiflexi.core.manifests.model import (
    CATEGORIES,
    FIELD_TYPES,
    SEVERITIES,
    Artifact,
    ExitCode,
    Field,
    Manifest,
)
from multiflexi.core.manifests.parse import ParsedManifest, check_manifest, parse_manifest
from multiflexi.core.manifests.schema import load_schema, schema_violations
from multiflexi.core.manifests.source import Source

__all__ = [
    "CATEGORIES",
    "CREDENTIAL_TYPE_FIELD_TYPES",
    "FIELD_TYPES",
    "LANGUAGES",
    "PROTOTYPE_FIELD_TYPES",
    "SEVERITIES",
    "Artifact",
    "CredentialPrototype",
    "CredentialTypeDefinition",
    "CredentialTypeField",
    "ExitCode",
    "Field",
    "ImportPreview",
    "ImportResult",
    "Localized",
    "Manifest",
    "Option",
    "ParsedCredentialType",
    "ParsedManifest",
    "ParsedPrototype",
    "PrototypeField",
    "PrototypeImportPreview",
    "PrototypeImportResult",
    "Source",
    "application_manifest",
    "check_manifest",
    "credential_kind",
    "credential_type_to_json",
    "dump_manifest",
    "export_credential_prototype",
    "export_manifest",
    "import_credential_prototype",
    "import_manifest",
    "load_schema",
    "manifest_to_json",
    "parse_credential_prototype",
    "parse_credential_type",
    "parse_manifest",
    "preview_credential_prototype",
    "preview_manifest",
    "prototype_to_json",
    "schema_violations",
    "stored_prototype",
]
