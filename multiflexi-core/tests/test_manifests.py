"""Reading, normalising, checking and writing application manifests (no database)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests import (
    Localized,
    dump_manifest,
    manifest_to_json,
    parse_manifest,
    schema_violations,
)

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = (
    "https://raw.githubusercontent.com/VitexSoftware/php-vitexsoftware-multiflexi-core/"
    "refs/heads/main/schema/application.json"
)


def manifest(**changes):
    """A small valid manifest with `changes` applied (a value of None removes the key)."""
    doc = {
        "$schema": SCHEMA,
        "uuid": "0b6f2c9e-1d4a-4c1e-9f00-5a7e3c2d1b10",
        "name": "Statement Fetcher",
        "description": "Downloads bank statements",
        "executable": "statement-fetcher",
        "environment": {"DAYS_BACK": {"type": "integer", "defval": 1, "required": True}},
    }
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def refused(doc) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_manifest(doc)
    return caught.value.errors


def test_a_current_manifest_reads_without_warnings():
    parsed = parse_manifest(manifest())
    assert parsed.warnings == ()
    m = parsed.manifest
    assert m.name == Localized.of("Statement Fetcher")
    assert m.uuid == "0b6f2c9e-1d4a-4c1e-9f00-5a7e3c2d1b10"
    assert m.fields[0].name == "DAYS_BACK"
    assert m.fields[0].default == 1 and m.fields[0].required


def test_parsing_leaves_the_callers_mapping_alone():
    doc = manifest(topics="a,b", environment=[{"name": "X", "type": "checkbox"}])
    before = copy.deepcopy(doc)
    parse_manifest(doc)
    assert doc == before


@pytest.mark.parametrize(
    ("legacy", "current"),
    [
        ("checkbox", "bool"),
        ("switch", "bool"),
        ("boolean", "bool"),
        ("number", "integer"),
        ("int", "integer"),
        ("select", "set"),
        ("directory", "file-path"),
        ("file", "file-path"),
        ("text", "text"),
    ],
)
def test_old_field_type_names_are_read_as_current_ones(legacy, current):
    parsed = parse_manifest(manifest(environment={"X": {"type": legacy}}))
    assert parsed.manifest.field("X").type == current
    assert bool(parsed.warnings) == (legacy != current)


def test_field_type_secret_is_a_secret_password():
    field = parse_manifest(manifest(environment={"TOKEN": {"type": "secret"}})).manifest.field(
        "TOKEN"
    )
    assert (field.type, field.secret) == ("password", True)


def test_secret_and_multiline_follow_the_type_unless_given():
    env = {
        "PASS": {"type": "password"},
        "SHOWN_PASS": {"type": "password", "secret": False},
        "NOTES": {"type": "text"},
        "ONE_LINE_NOTES": {"type": "text", "multiline": False},
        "PLAIN": {},
    }
    m = parse_manifest(manifest(environment=env)).manifest
    assert [(f.name, f.type, f.secret, f.multiline) for f in m.fields] == [
        ("PASS", "password", True, False),
        ("SHOWN_PASS", "password", False, False),
        ("NOTES", "text", False, True),
        ("ONE_LINE_NOTES", "text", False, False),
        ("PLAIN", "string", False, False),
    ]
    # and they survive the way out and back
    assert parse_manifest(manifest_to_json(m)).manifest == m


def test_an_unknown_field_type_is_refused_with_its_path():
    errors = refused(manifest(environment={"FOO": {"type": "colour"}}))
    assert errors == [
        "environment.FOO.type: 'colour' is not one of ['string', 'file-path', 'email', 'url', "
        "'integer', 'float', 'bool', 'password', 'set', 'text']"
    ]


def test_violations_are_sorted_and_each_reported_once():
    errors = refused(
        manifest(
            executable=5,
            environment={"B": {"type": "x"}, "A": {"type": "x", "required": "perhaps"}},
        )
    )
    assert errors == sorted(set(errors))
    assert errors[0].startswith("environment.A.required: 'perhaps' is not of type 'boolean'")
    assert "executable: 5 is not of type 'string'" in errors


@pytest.mark.parametrize(("given", "expected"), [(0, False), (1, True), ("1", True), ("no", False)])
def test_required_given_as_a_number_or_word_is_a_boolean(given, expected):
    m = parse_manifest(manifest(environment={"X": {"required": given}})).manifest
    assert m.field("X").required is expected


def test_command_line_template_in_either_spelling():
    assert parse_manifest(manifest(cmdparams="-v {X}")).manifest.cmdparams == "-v {X}"
    assert parse_manifest(manifest(cmdparamsTemplate="-v {X}")).manifest.cmdparams == "-v {X}"
    both = parse_manifest(manifest(cmdparams="--old", cmdparamsTemplate="--new"))
    assert both.manifest.cmdparams == "--new"
    assert any("cmdparams: ignored" in w for w in both.warnings)
    exported = manifest_to_json(both.manifest)
    assert exported["cmdparamsTemplate"] == "--new" and "cmdparams" not in exported


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("bank, import,,bank", ("bank", "import")),
        (["bank", " import "], ("bank", "import")),
        (["bank,import"], ("bank", "import")),
    ],
)
def test_topics_and_tags_as_list_or_comma_text(given, expected):
    assert parse_manifest(manifest(topics=given)).manifest.tags == expected
    assert parse_manifest(manifest(tags=given)).manifest.tags == expected


@pytest.mark.parametrize("given", ["FioBank,SQLServer", ["FioBank", "SQLServer"]])
def test_requirements_as_text_or_list_and_misspelled(given):
    assert parse_manifest(manifest(requirements=given)).manifest.requirements == (
        "FioBank",
        "SQLServer",
    )
    assert parse_manifest(manifest(reqirements=given)).manifest.requirements == (
        "FioBank",
        "SQLServer",
    )


@pytest.mark.parametrize("given", ["", None])
def test_empty_or_null_requirements_are_none(given):
    doc = manifest()
    doc["requirements"] = given
    assert parse_manifest(doc).manifest.requirements == ()


def test_localized_and_plain_texts():
    m = parse_manifest(
        manifest(
            name={"cs": "Stahovač", "en": "Fetcher"},
            description="Plain",
            title={"de": "Abholer"},
        )
    ).manifest
    assert m.name.text == "Fetcher" and m.name.get("cs") == "Stahovač"
    assert m.description == Localized.of({"en": "Plain"})
    assert m.title.text == "Abholer"
    assert m.languages == ("en", "cs", "de")
    exported = manifest_to_json(m)
    assert exported["name"] == {"en": "Fetcher", "cs": "Stahovač"}
    assert exported["description"] == "Plain"


def test_a_localized_text_with_an_unknown_language_is_refused():
    errors = refused(manifest(name={"en": "Fetcher", "cz": "Stahovač"}))
    assert errors == ["name: unknown language code(s) 'cz'"]


def test_empty_ociimage_and_version_are_not_given_but_a_bad_one_is_refused():
    m = parse_manifest(manifest(ociimage="", version="")).manifest
    assert (m.ociimage, m.version) == (None, None)
    errors = refused(manifest(ociimage="not an image!"))
    assert errors[0].startswith("ociimage: 'not an image!' does not match")


def test_environment_as_a_list_of_named_fields():
    m = parse_manifest(
        manifest(environment=[{"name": "A", "type": "checkbox"}, {"name": "B", "defval": "x"}])
    ).manifest
    assert [(f.name, f.type, f.default) for f in m.fields] == [
        ("A", "bool", None),
        ("B", "string", "x"),
    ]


def test_environment_as_a_list_of_unnamed_things_is_refused():
    assert refused(manifest(environment=["A", "B"])) == [
        "environment: ['A', 'B'] is not of type 'object'"
    ]


def test_exit_codes_as_plain_text_or_keyed_by_language():
    m = parse_manifest(
        manifest(exitCodes={"3": "Bank unreachable", "0": {"en": "OK", "cs": "V pořádku"}})
    ).manifest
    assert [(e.code, e.description.text, e.severity, e.retry) for e in m.exit_codes] == [
        (0, "OK", "error", False),
        (3, "Bank unreachable", "error", False),
    ]


def test_a_missing_schema_is_assumed_and_written_on_export():
    parsed = parse_manifest(manifest(**{"$schema": None}))
    assert any(w.startswith("$schema: missing") for w in parsed.warnings)
    assert manifest_to_json(parsed.manifest)["$schema"] == SCHEMA


def test_a_missing_required_key_is_refused():
    assert refused(manifest(executable=None)) == ["(document): 'executable' is a required property"]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({"type": "bool", "defval": "False"}, False),
        ({"type": "bool", "defval": "on"}, True),
        ({"type": "bool", "defval": 1}, True),
        ({"type": "bool", "defval": ""}, None),
        ({"type": "integer", "defval": "100"}, 100),
        ({"type": "integer", "defval": "{OTHER}"}, "{OTHER}"),
        ({"type": "float", "defval": "2.5"}, 2.5),
        ({"type": "string", "defval": 5}, "5"),
        ({"type": "string", "defval": True}, "true"),
        ({"type": "string"}, None),
    ],
)
def test_defaults_are_read_by_field_type(field, expected):
    default = parse_manifest(manifest(environment={"X": field})).manifest.field("X").default
    assert default == expected and type(default) is type(expected)


def test_a_structured_default_is_refused():
    assert refused(manifest(environment={"X": {"defval": [1, 2]}})) == [
        "environment.X.defval: must be a single value (text, number or true/false), not a structure"
    ]


def test_a_field_name_outside_the_pattern_is_still_checked():
    # "BANKA+" is a real field name; the schema's pattern skips it, so we check it ourselves
    assert refused(manifest(environment={"BANKA+": {"type": "colour"}}))[0].startswith(
        "environment.BANKA+.type: 'colour' is not one of"
    )


def test_an_artifact_pattern_must_be_a_regular_expression():
    errors = refused(
        manifest(artifacts=[{"name": "Report", "path": "report_(.json", "type": "file"}])
    )
    assert errors[0].startswith("artifacts[0].path: not a valid regular expression")


def test_unknown_keys_are_ignored_with_a_warning():
    parsed = parse_manifest(
        manifest(repository="https://example.org", environment={"X": {"value": 1}})
    )
    assert "repository: not part of the manifest format, ignored" in parsed.warnings
    assert "environment.X.value: not part of the manifest format, ignored" in parsed.warnings


def test_timeout_when_given_must_be_whole_seconds():
    assert parse_manifest(manifest(timeout=600)).manifest.timeout == 600
    assert refused(manifest(timeout="soon")) == [
        "timeout: 'soon' is not a whole number of seconds (1 or more)"
    ]


def test_the_manifest_is_immutable():
    m = parse_manifest(manifest(produces={"r": {"format": "json"}})).manifest
    with pytest.raises(AttributeError):
        m.name = Localized.of("other")  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.produces["r"] = {}  # type: ignore[index]


def test_export_is_stable_text_in_a_fixed_key_order():
    m = parse_manifest(
        manifest(
            tags=["b", "a"],
            exitCodes={"0": {"description": "OK", "severity": "success"}},
            cmdparams="{DAYS_BACK}",
        )
    ).manifest
    text = dump_manifest(m)
    assert text == dump_manifest(m) and text.endswith("}\n")
    assert list(json.loads(text)) == [
        "$schema",
        "schemaVersion",
        "uuid",
        "name",
        "description",
        "executable",
        "cmdparamsTemplate",
        "tags",
        "requirements",
        "environment",
        "exitCodes",
    ]
    assert schema_violations(json.loads(text), "application") == []


@pytest.mark.parametrize(
    "source",
    [b"\xff\xfe not utf-8", "[1, 2]", "", "{", '{"name": NaN}', 42],
    ids=["bad-utf8", "array", "empty", "truncated", "nan", "int"],
)
def test_unreadable_sources_are_validation_errors(source):
    with pytest.raises(ValidationError):
        parse_manifest(source)


def test_a_missing_file_is_a_validation_error_naming_it(tmp_path):
    with pytest.raises(ValidationError) as caught:
        parse_manifest(tmp_path / "nope.json")
    assert "nope.json cannot be read" in str(caught.value)


JUNK = [None, True, 0, -1, 1.5, "", "x", "a,b", [], [1], ["a"], {}, {"en": 1}, {"x": {}}]


def _mutations(doc, rng, count):
    """Copies of `doc` with one value somewhere replaced by junk."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                paths.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                paths.append((*path, i))
                walk(v, (*path, i))

    walk(doc, ())
    for _ in range(count):
        mutated = copy.deepcopy(doc)
        path = rng.choice(paths)
        target = mutated
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = copy.deepcopy(rng.choice(JUNK))
        yield mutated


def test_mangled_real_manifests_give_validation_errors_and_nothing_else():
    rng = random.Random(20260826)
    sources = sorted((FIXTURES / "apps").glob("VitexSoftware__multiflexi-probe__*.json"))
    sources += sorted((FIXTURES / "apps").glob("*contract_to_invoices@*.json"))
    for path in sources:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for mutated in _mutations(doc, rng, 300):
            try:
                parse_manifest(mutated)
            except ValidationError as exc:
                assert exc.errors or exc.summary
