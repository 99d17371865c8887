"""Credential prototype and credential type definitions (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests import (
    credential_kind,
    credential_type_to_json,
    parse_credential_prototype,
    parse_credential_type,
    prototype_to_json,
    schema_violations,
)

CREDENTIALS = Path(__file__).parent / "fixtures" / "credentials"
FILES = sorted(CREDENTIALS.iterdir())
TYPES = {
    "Spoje-NET__discomp2abraflexi__discomp@29222fd.multiflexi.credential-type.json",
    "Spoje-NET__discomp2abraflexi__discomp@b1f4181.multiflexi.credtype.json",
    "VitexSoftware__multiflexi-probe__probe.multiflexi.credtype.json",
    "VitexSoftware__multiflexi-probe__probe@b4b0c9b.multiflexi.credential-type.json",
    "VitexSoftware__multiflexi-web5__probe.multiflexi.credential-type.json",
    "VitexSoftware__php-vitexsoftware-multiflexi-core__test.credential-type.json",
}
#: credential type files without the version the credential-type schema requires
TYPES_WITHOUT_VERSION = {
    "Spoje-NET__discomp2abraflexi__discomp@29222fd.multiflexi.credential-type.json",
    "Spoje-NET__discomp2abraflexi__discomp@b1f4181.multiflexi.credtype.json",
    "VitexSoftware__php-vitexsoftware-multiflexi-core__test.credential-type.json",
}
PROTOTYPES = [p for p in FILES if p.name not in TYPES]


def test_nineteen_files_thirteen_prototypes():
    assert len(FILES) == 19
    assert len(PROTOTYPES) == 13


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_is_recognised_as_prototype_or_type(path):
    expected = "type" if path.name in TYPES else "prototype"
    assert credential_kind(json.loads(path.read_bytes()), path) == expected


def test_a_definition_without_schema_or_telling_name_is_not_guessed():
    with pytest.raises(ValidationError):
        credential_kind({"code": "X"}, "x.json")


@pytest.mark.parametrize("path", PROTOTYPES, ids=lambda p: p.name)
def test_every_prototype_is_accepted_and_round_trips(path):
    prototype = parse_credential_prototype(path).prototype
    exported = prototype_to_json(prototype)
    assert list(exported)[:3] == ["$schema", "uuid", "code"]
    again = parse_credential_prototype(json.dumps(exported))
    assert again.prototype == prototype
    assert again.warnings == ()


@pytest.mark.parametrize("path", PROTOTYPES, ids=lambda p: p.name)
def test_exported_prototypes_satisfy_the_schema_with_main_texts(path):
    """The prototype schema wants plain strings; the export keeps languages, so project first."""
    exported = prototype_to_json(parse_credential_prototype(path).prototype)
    projected = dict(exported)
    for key in ("name", "description"):
        if isinstance(projected.get(key), dict):
            projected[key] = projected[key]["en"]
    projected["fields"] = [
        {k: (v["en"] if isinstance(v, dict) else v) for k, v in field.items()}
        for field in exported["fields"]
    ]
    assert schema_violations(projected, "credential-prototype") == []


def test_localized_prototype_texts_keep_every_language():
    p = parse_credential_prototype(
        CREDENTIALS / "VitexSoftware__php-vitexsoftware-multiflexi-core__fiobank.credprototype.json"
    ).prototype
    assert (p.code, p.name.text, p.name.get("cs")) == ("FioBank", "Fio Bank", "Fio Banka")
    token = p.field("FIO_TOKEN")
    assert token.required and token.description.get("cs") == "Token pro přístup k Fio Bank API"


def test_title_and_example_are_read_as_name_and_hint():
    parsed = parse_credential_prototype(
        CREDENTIALS / "Spoje-NET__abraflexi-ipex__ipex.multiflexi.crdprototype.json"
    )
    url = parsed.prototype.field("IPEX_URL")
    assert url.name.text == "IPEX API URL"
    assert url.hint.text == "https://ipex.example.com/api"
    assert "id: not part of the format, ignored" in parsed.warnings
    password = parsed.prototype.field("IPEX_PASSWORD")
    assert password.secret and password.type == "password"


def test_default_is_read_as_default_value_text():
    p = parse_credential_prototype(
        CREDENTIALS / "VitexSoftware__multiflexi-probe__probe.multiflexi.credprototype.json"
    ).prototype
    assert p.field("PROBE_TIMEOUT").default == "30"
    assert p.field("PROBE_ENDPOINT").default == "https://probe.example.com/api"


def test_the_original_exporters_schema_key_is_accepted():
    parsed = parse_credential_prototype(
        CREDENTIALS / "Spoje-NET__discomp2abraflexi__discomp.multiflexi.crdprtype.json"
    )
    assert parsed.prototype.code == "Discomp"
    assert not any(w.startswith("schema") for w in parsed.warnings)


def _prototype(**changes):
    doc = {
        "uuid": "f79aaa38-2eaf-453a-beee-3a2afa1221d5",
        "code": "FioBank",
        "name": "Fio Bank",
        "version": "1.0",
        "fields": [{"keyword": "FIO_TOKEN", "type": "password", "required": True}],
    }
    doc.update(changes)
    return doc


def test_prototype_violations_name_their_place():
    with pytest.raises(ValidationError) as caught:
        parse_credential_prototype(
            _prototype(
                code="x",
                name={"en": "Fio", "xx": "?"},
                fields=[{"keyword": "lower", "type": "string"}],
            )
        )
    assert caught.value.errors == [
        "code: 'x' does not match '^[a-zA-Z0-9_-]{2,64}$'",
        "fields[0].keyword: 'lower' does not match '^[A-Z][A-Z0-9_]*$'",
        "name: unknown language code(s) 'xx'",
    ]


def test_a_keyword_given_twice_is_refused():
    fields = [{"keyword": "A", "type": "string"}, {"keyword": "A", "type": "password"}]
    with pytest.raises(ValidationError) as caught:
        parse_credential_prototype(_prototype(fields=fields))
    assert caught.value.errors == ["fields: keyword 'A' is given more than once"]


def test_options_as_plain_values_become_value_label_pairs():
    fields = [{"keyword": "DB", "type": "select", "options": ["MySQL", "SQLite"]}]
    p = parse_credential_prototype(_prototype(fields=fields)).prototype
    assert [(o.value, o.label) for o in p.field("DB").options] == [
        ("MySQL", "MySQL"),
        ("SQLite", "SQLite"),
    ]


@pytest.mark.parametrize(
    "path", [p for p in FILES if p.name in TYPES - TYPES_WITHOUT_VERSION], ids=lambda p: p.name
)
def test_credential_types_with_a_version_are_accepted_and_round_trip(path):
    definition = parse_credential_type(path).credential_type
    assert definition.code == "Probe"
    exported = credential_type_to_json(definition)
    assert schema_violations(exported, "credential-type") == []
    assert parse_credential_type(json.dumps(exported)).credential_type == definition


@pytest.mark.parametrize("path", [CREDENTIALS / n for n in sorted(TYPES_WITHOUT_VERSION)])
def test_credential_types_without_a_version_are_refused(path):
    with pytest.raises(ValidationError) as caught:
        parse_credential_type(path)
    assert "(document): 'version' is a required property" in caught.value.errors


def test_credential_type_fields_keep_their_types():
    definition = parse_credential_type(
        CREDENTIALS / "VitexSoftware__multiflexi-probe__probe.multiflexi.credtype.json"
    ).credential_type
    assert [(f.keyword, f.type) for f in definition.fields] == [
        ("PROBE_API_KEY", "secret"),
        ("PROBE_ENDPOINT", "string"),
        ("PROBE_TIMEOUT", "number"),
    ]
