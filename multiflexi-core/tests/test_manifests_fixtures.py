"""Every real manifest in tests/fixtures/apps is either accepted (and round-trips) or refused
with a message saying why; nothing raises anything but ValidationError."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests import (
    check_manifest,
    dump_manifest,
    manifest_to_json,
    parse_manifest,
    schema_violations,
)

FIXTURES = Path(__file__).parent / "fixtures"
APPS = sorted((FIXTURES / "apps").iterdir())

#: the fixtures that are refused, with a piece of the message that says why
REFUSED = {
    # not JSON: the message names the position of the syntax error
    "VitexSoftware__abraflexi-reminder__abraflexi-reminder.multiflexi.app.json": (
        "line 256, column 3"
    ),
    "VitexSoftware__abraflexi-reminder__reminder@df77e9b.multiflexi.app.json": "line 124, column 1",
    "VitexSoftware__php-vitexsoftware-multiflexi-core__test.invalid.multiflexi.app.json": (
        "line 14, column 70"
    ),
    # JSON, but wrong in ways no legacy spelling explains
    "VitexSoftware__php-vitexsoftware-multiflexi-core__test.schema-invalid.multiflexi.app.json": (
        "executable: 123 is not of type 'string'"
    ),
    "Spoje-NET__fiobank-statement-tools__rb_transaction_report@a1c2355.multiflexi.app.json": (
        "homepage: 'Download your Statements to directory ' is not a valid uri"
    ),
    "VitexSoftware__MultiFlexi-Java-App-Example__abraflexi_java_app.multiflexi.app.json": (
        "name: must not be empty"
    ),
}
ACCEPTED = [p for p in APPS if p.name not in REFUSED]


def test_the_fixture_set_is_complete_and_described():
    assert len(APPS) == 99
    assert set(REFUSED) <= {p.name for p in APPS}
    with (FIXTURES / "sources.tsv").open(encoding="utf-8") as handle:
        listed = {row["file"] for row in csv.DictReader(handle, delimiter="\t")}
    on_disk = {f"apps/{p.name}" for p in APPS} | {
        f"credentials/{p.name}" for p in (FIXTURES / "credentials").iterdir()
    }
    assert listed == on_disk


@pytest.mark.parametrize("path", APPS, ids=lambda p: p.name)
def test_each_fixture_is_accepted_or_refused_with_its_reason(path):
    if path.name in REFUSED:
        with pytest.raises(ValidationError) as caught:
            parse_manifest(path)
        assert REFUSED[path.name] in str(caught.value)
        assert path.name in caught.value.summary
    else:
        parsed = parse_manifest(path)
        assert parsed.manifest.name.text
        assert parsed.manifest.executable


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: p.name)
def test_export_is_schema_valid_and_imports_back_equal(path):
    manifest = parse_manifest(path).manifest
    exported = manifest_to_json(manifest)
    assert schema_violations(exported, "application") == []
    assert list(exported)[:2] == ["$schema", "schemaVersion"]
    again = parse_manifest(dump_manifest(manifest))
    assert again.manifest == manifest
    assert again.warnings == ()


def test_the_count_of_accepted_fixtures_that_needed_no_rewriting():
    """70 fixtures follow schema 3.4.0 as they are; 23 more are accepted after rewriting."""
    strict = [p for p in ACCEPTED if check_manifest(p) == []]
    assert len(strict) == 70
    assert len(ACCEPTED) == 93


@pytest.mark.parametrize("path", [p for p in APPS if "line" in REFUSED.get(p.name, "")])
def test_a_file_that_is_not_json_names_the_line_and_column(path):
    with pytest.raises(ValidationError) as caught:
        parse_manifest(path)
    assert caught.value.summary.endswith("is not valid JSON")
    assert re.fullmatch(r"line \d+, column \d+: .+", caught.value.errors[0])


def test_bytes_and_text_and_paths_read_the_same(tmp_path):
    path = FIXTURES / "apps" / "VitexSoftware__multiflexi-probe__probe.multiflexi.app.json"
    data = path.read_bytes()
    from_path = parse_manifest(path).manifest
    assert parse_manifest(data).manifest == from_path
    assert parse_manifest(data.decode("utf-8")).manifest == from_path
    assert parse_manifest(json.loads(data)).manifest == from_path


def test_the_schema_invalid_test_file_lists_every_violation_sorted():
    name = (
        "VitexSoftware__php-vitexsoftware-multiflexi-core__test.schema-invalid.multiflexi.app.json"
    )
    path = FIXTURES / "apps" / name
    with pytest.raises(ValidationError) as caught:
        parse_manifest(path)
    assert caught.value.errors == [
        "environment.INVALID_ENV_STRUCTURE: 'should be array not object' is not of type 'object'",
        "executable: 123 is not of type 'string'",
        "requirements: {'should': 'be array or string, not object'} is not of type 'array'",
        "uuid: 'test-schema-invalid-uuid-67890' is not a valid uuid",
    ]


def _fixture(name: str):
    return parse_manifest(FIXTURES / "apps" / name)


def test_old_field_types_and_comma_requirements_of_a_real_old_manifest_are_read():
    parsed = _fixture(
        "Spoje-NET__pohoda-raiffeisenbank__pohoda_raiffeisenbank@240152b.multiflexi.app.json"
    )
    m = parsed.manifest
    assert m.requirements == ("Pohoda", "SQLServer", "RaiffeisenBank")
    assert m.field("DB_PORT").type == "integer"
    assert m.field("POHODA_DEBUG").type == "bool"
    assert m.ociimage is None
    assert any("old name 'number' read as 'integer'" in w for w in parsed.warnings)


def test_exit_codes_keyed_by_language_become_descriptions():
    m = _fixture(
        "VitexSoftware__abraflexi-cashier__abraflexi-cashier-withdrawal@1d05180.multiflexi.app.json"
    ).manifest
    (success,) = [e for e in m.exit_codes if e.code == 0]
    assert success.description.get("en") == "Success"
    assert success.description.get("cs") == "Úspěch"


def test_lowercase_exitcodes_are_read_when_exitcodes_is_absent():
    m = _fixture(
        "VitexSoftware__abraflexi-contract-invoices__contract_to_invoices.multiflexi.app.json"
    ).manifest
    assert [e.code for e in m.exit_codes][:3] == [0, 1, 2]


def test_return_codes_are_ignored_when_exit_codes_are_given():
    parsed = _fixture(
        "Spoje-NET__fiobank-statement-tools__fiobank_statement_mailer.multiflexi.app.json"
    )
    assert [e.code for e in parsed.manifest.exit_codes] == [0, 1, 404, 409, 500]
    assert any(w.startswith("returnCodes: ignored") for w in parsed.warnings)


def test_an_empty_environment_list_is_an_empty_environment_and_null_requirements_none():
    m = _fixture(
        "VitexSoftware__AbraFlexi-Tools__abraflexi_benchmark@f20d9f9.multiflexi.app.json"
    ).manifest
    assert m.requirements == ()
    assert m.field("ABRAFLEXI_BENCHMARK_CYCLES").default == 10


def test_events_listens_is_read_as_consumes():
    m = _fixture(
        "VitexSoftware__abraflexi-reminder__clear_reminder_labels.multiflexi.app.json"
    ).manifest
    assert "invoice.settled" in m.events["consumes"]
    assert "listens" not in m.events


def test_produces_type_is_read_as_format():
    m = _fixture("Spoje-NET__pohoda-abo-importer__pohoda-abo-importer.app.json").manifest
    assert m.produces["report"]["format"] == "json"


def test_misspelled_reqirements_are_read():
    m = _fixture(
        "Spoje-NET__abraflexi-ipex__abraflexi-ipex-postpaid-invoices@43fcf54.multiflexi.app.json"
    ).manifest
    assert m.requirements == ("AbraFlexi", "Ipex")


def test_a_multilanguage_manifest_keeps_every_language():
    m = _fixture("VitexSoftware__php-vitexsoftware-multiflexi-core__test.multilanguage.app.json")
    manifest = m.manifest
    assert manifest.title is not None and manifest.title.get("cs") == "Testovací Titulek"
    assert "cs" in manifest.languages
