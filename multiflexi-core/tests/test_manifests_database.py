"""Importing manifests and credential prototypes into a real SQLite database, and back out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import models
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.manifests import (
    application_manifest,
    export_credential_prototype,
    export_manifest,
    import_credential_prototype,
    import_manifest,
    parse_credential_prototype,
    parse_manifest,
    stored_prototype,
)

FIXTURES = Path(__file__).parent / "fixtures"
APPS = FIXTURES / "apps"
CREDENTIALS = FIXTURES / "credentials"
ACTOR = Actor(name="tester", source="test")
PROBE = APPS / "VitexSoftware__multiflexi-probe__probe.multiflexi.app.json"
FIOBANK = CREDENTIALS / (
    "VitexSoftware__php-vitexsoftware-multiflexi-core__fiobank.credprototype.json"
)
REFUSED_APPS = [
    "VitexSoftware__abraflexi-reminder__abraflexi-reminder.multiflexi.app.json",
    "VitexSoftware__abraflexi-reminder__reminder@df77e9b.multiflexi.app.json",
    "VitexSoftware__php-vitexsoftware-multiflexi-core__test.invalid.multiflexi.app.json",
    "VitexSoftware__php-vitexsoftware-multiflexi-core__test.schema-invalid.multiflexi.app.json",
    "Spoje-NET__fiobank-statement-tools__rb_transaction_report@a1c2355.multiflexi.app.json",
    "VitexSoftware__MultiFlexi-Java-App-Example__abraflexi_java_app.multiflexi.app.json",
]
ACCEPTED_APPS = sorted(p for p in APPS.iterdir() if p.name not in REFUSED_APPS)
PROTOTYPE_FILES = sorted(
    p for p in CREDENTIALS.iterdir() if "prototype" in p.name or "crdprtype" in p.name
)
#: timestamps and surrogate keys differ between two writes of the same content
VOLATILE = {"id", "created_at", "updated_at", "at"}


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table except the audit log, without ids and timestamps."""
    out = {}
    with engine.connect() as conn:
        for table in models.Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            columns = [c for c in table.columns if c.name not in VOLATILE]
            rows = conn.execute(sa.select(*columns or [sa.literal(1)]).select_from(table)).all()
            out[table.name] = sorted(tuple(json.dumps(v, default=str) for v in r) for r in rows)
    return out


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.scalar(sa.select(sa.func.count()).select_from(t)) or 0
            for t in models.Base.metadata.sorted_tables
        }


def fresh(engine) -> Session:
    """A new session, so reads come from the database and not from objects still in memory."""
    return Session(engine)


def test_every_accepted_fixture_imports_and_reads_back_unchanged(session, engine):
    created = set()
    for path in ACCEPTED_APPS:
        result = import_manifest(session, path, actor=ACTOR)
        if result.created:
            created.add(result.application_id)
        with fresh(engine) as reader:
            stored = application_manifest(reader, result.application_id)
        assert stored == parse_manifest(path).manifest, path.name
    assert row_counts(engine)["applications"] == len(created)
    # several fixtures are versions of one application: fewer applications than files
    assert 60 < len(created) < len(ACCEPTED_APPS)


def test_reimport_keeps_the_application_and_does_not_duplicate_fields(session, engine):
    first = import_manifest(session, PROBE, actor=ACTOR)
    counts = row_counts(engine)
    before = snapshot(engine)
    second = import_manifest(session, PROBE, actor=ACTOR)
    assert (first.created, second.created) == (True, False)
    assert second.application_id == first.application_id
    after = row_counts(engine)
    assert after.pop("audit_log") == counts.pop("audit_log") + 1
    assert after == counts
    assert snapshot(engine) == before
    assert counts["application_fields"] == len(parse_manifest(PROBE).manifest.fields)


def test_a_new_name_with_the_same_uuid_renames_the_application(session, engine):
    doc = json.loads(PROBE.read_text(encoding="utf-8"))
    first = import_manifest(session, doc, actor=ACTOR)
    doc["name"] = {"en": "Probe, renamed", "cs": "Sonda"}
    doc["environment"] = {"ONLY_ONE": {"type": "string"}}
    second = import_manifest(session, doc, actor=ACTOR)
    assert second.application_id == first.application_id and not second.created
    with fresh(engine) as reader:
        app = reader.get(models.Application, first.application_id)
        assert app.name == "Probe, renamed"
        assert [f.name for f in app.fields] == ["ONLY_ONE"]
        assert {t.lang: t.name for t in app.translations} == {"en": "Probe, renamed", "cs": "Sonda"}
    assert row_counts(engine)["applications"] == 1


def test_export_then_import_leaves_the_database_as_it_was(session, engine):
    for path in ACCEPTED_APPS[:40]:
        import_manifest(session, path, actor=ACTOR)
    before = snapshot(engine)
    ids = session.scalars(sa.select(models.Application.id)).all()
    for application_id in ids:
        exported = export_manifest(session, application_id)
        result = import_manifest(session, exported, actor=ACTOR)
        assert result.application_id == application_id and not result.created
        assert result.warnings == ()
    assert snapshot(engine) == before


def test_a_manifest_matched_by_name_takes_its_new_uuid_with_a_warning(session):
    old = "Spoje-NET__pohoda-raiffeisenbank__pohoda-sql_raiffeisenbank@240152b.multiflexi.app.json"
    new = "Spoje-NET__pohoda-raiffeisenbank__pohoda_raiffeisenbank_statements.multiflexi.app.json"
    first = import_manifest(session, APPS / old, actor=ACTOR)
    second = import_manifest(session, APPS / new, actor=ACTOR)
    assert second.application_id == first.application_id
    assert any("matched by name: its uuid changes" in w for w in second.warnings)
    app = session.get(models.Application, first.application_id)
    assert app.uuid == parse_manifest(APPS / new).manifest.uuid


@pytest.mark.parametrize("name", REFUSED_APPS)
def test_a_refused_manifest_writes_nothing(session, engine, name):
    import_manifest(session, PROBE, actor=ACTOR)
    before, counts = snapshot(engine), row_counts(engine)
    with pytest.raises(ValidationError):
        import_manifest(session, APPS / name, actor=ACTOR)
    assert row_counts(engine) == counts
    assert snapshot(engine) == before


def test_an_invalid_update_of_an_existing_application_writes_nothing(session, engine):
    import_manifest(session, PROBE, actor=ACTOR)
    before, counts = snapshot(engine), row_counts(engine)
    doc = json.loads(PROBE.read_text(encoding="utf-8"))
    doc["environment"]["NEW_FIELD"] = {"type": "colour"}
    with pytest.raises(ValidationError):
        import_manifest(session, doc, actor=ACTOR)
    doc = json.loads(PROBE.read_text(encoding="utf-8"))
    doc["code"] = "PROBE" * 4  # the schema says nothing about its length; the column does
    with pytest.raises(ValidationError) as caught:
        import_manifest(session, doc, actor=ACTOR)
    assert caught.value.errors == ["code: longer than 16 characters"]
    assert row_counts(engine) == counts
    assert snapshot(engine) == before


def test_taking_the_name_of_another_application_is_a_conflict_and_writes_nothing(session, engine):
    import_manifest(session, PROBE, actor=ACTOR)
    other = json.loads(PROBE.read_text(encoding="utf-8"))
    other["uuid"] = "0b6f2c9e-1d4a-4c1e-9f00-5a7e3c2d1b10"
    other["name"] = "Another app"
    import_manifest(session, other, actor=ACTOR)
    before, counts = snapshot(engine), row_counts(engine)
    other["name"] = parse_manifest(PROBE).manifest.name.text
    with pytest.raises(Conflict) as caught:
        import_manifest(session, other, actor=ACTOR)
    assert "already has the name" in str(caught.value)
    assert row_counts(engine) == counts and snapshot(engine) == before


def test_each_import_leaves_an_audit_row(session):
    first = import_manifest(session, PROBE, actor=ACTOR)
    import_manifest(session, PROBE, actor=ACTOR)
    entries = session.scalars(sa.select(models.AuditEntry).order_by(models.AuditEntry.id)).all()
    assert [(e.actor, e.action, e.entity_type, e.entity_id) for e in entries] == [
        ("tester", "create", "application", str(first.application_id)),
        ("tester", "update", "application", str(first.application_id)),
    ]


def test_exporting_an_unknown_application_is_not_found(session):
    with pytest.raises(NotFound):
        export_manifest(session, 404)


# -- credential prototypes ------------------------------------------------------------------


def test_every_prototype_imports_and_reads_back_unchanged(session, engine):
    assert len(PROTOTYPE_FILES) == 13
    ids = set()
    for path in PROTOTYPE_FILES:
        result = import_credential_prototype(session, path, actor=ACTOR)
        ids.add(result.prototype_id)
        with fresh(engine) as reader:
            assert stored_prototype(reader, result.prototype_id) == (
                parse_credential_prototype(path).prototype
            ), path.name
    # office365 is there twice (moved between repositories, same uuid)
    assert row_counts(engine)["credential_prototypes"] == len(ids) == 12


def test_prototype_reimport_and_export_round_trip_change_nothing(session, engine):
    first = import_credential_prototype(session, FIOBANK, actor=ACTOR)
    before, counts = snapshot(engine), row_counts(engine)
    again = import_credential_prototype(session, FIOBANK, actor=ACTOR)
    exported = export_credential_prototype(session, first.prototype_id)
    third = import_credential_prototype(session, exported, actor=ACTOR)
    assert first.prototype_id == again.prototype_id == third.prototype_id
    assert (first.created, again.created, third.created) == (True, False, False)
    after = row_counts(engine)
    assert after.pop("audit_log") == counts.pop("audit_log") + 2
    assert after == counts
    assert snapshot(engine) == before
    with fresh(engine) as reader:
        row = reader.scalar(sa.select(models.CredentialPrototype))
        assert (row.code, row.name, row.translations["name"]["cs"]) == (
            "FioBank",
            "Fio Bank",
            "Fio Banka",
        )


def test_an_invalid_prototype_writes_nothing(session, engine):
    import_credential_prototype(session, FIOBANK, actor=ACTOR)
    before, counts = snapshot(engine), row_counts(engine)
    doc = json.loads(FIOBANK.read_text(encoding="utf-8"))
    doc["fields"].append({"keyword": "FIO_TOKEN", "type": "string"})
    with pytest.raises(ValidationError):
        import_credential_prototype(session, doc, actor=ACTOR)
    doc = json.loads(FIOBANK.read_text(encoding="utf-8"))
    doc["uuid"] = "0b6f2c9e-1d4a-4c1e-9f00-5a7e3c2d1b10"
    doc["code"] = "Other"
    import_credential_prototype(session, doc, actor=ACTOR)
    before, counts = snapshot(engine), row_counts(engine)
    doc["code"] = "FioBank"  # the code of the other prototype
    with pytest.raises(Conflict):
        import_credential_prototype(session, doc, actor=ACTOR)
    assert row_counts(engine) == counts and snapshot(engine) == before


#: a uuid as real manifests have it: uuid-shaped, but with letters beyond a-f
LOOSE_UUID = "6ed1a4c5-d6d2-4b9c-b6e4-1z5a9f2b8c7d"


def test_a_uuid_not_in_rfc_4122_form_imports_with_a_warning_and_round_trips(session, engine):
    document = json.loads(PROBE.read_text()) | {"uuid": LOOSE_UUID}
    result = import_manifest(session, document, actor=ACTOR)
    assert result.warnings == (
        f"uuid: '{LOOSE_UUID}' is not an RFC 4122 uuid (hex digits only); kept as given",
    )
    with fresh(engine) as reader:
        assert reader.get(models.Application, result.application_id).uuid == LOOSE_UUID
    exported = export_manifest(session, result.application_id)
    assert exported["uuid"] == LOOSE_UUID
    before = snapshot(engine)
    again = import_manifest(session, exported, actor=ACTOR)
    assert (again.application_id, again.created) == (result.application_id, False)
    assert snapshot(engine) == before
    # the strict check still says it is not a valid uuid
    from multiflexi.core.manifests import check_manifest

    assert f"uuid: '{LOOSE_UUID}' is not a valid uuid" in check_manifest(document)


@pytest.mark.parametrize("bad", ["test-invalid-uuid-12345", "6ed1a4c5-d6d2-4b9c-b6e4-1z5a9f2b8c7"])
def test_a_uuid_that_is_not_even_uuid_shaped_is_still_refused(session, engine, bad):
    document = json.loads(PROBE.read_text()) | {"uuid": bad}
    with pytest.raises(ValidationError, match="is not a valid uuid"):
        import_manifest(session, document, actor=ACTOR)
    assert row_counts(engine)["applications"] == 0


def test_a_prototype_uuid_not_in_rfc_4122_form_is_kept_with_a_warning(session, engine):
    document = json.loads(FIOBANK.read_text()) | {"uuid": LOOSE_UUID}
    result = import_credential_prototype(session, document, actor=ACTOR)
    assert any("not an RFC 4122 uuid" in w for w in result.warnings)
    exported = export_credential_prototype(session, result.prototype_id)
    assert exported["uuid"] == LOOSE_UUID
    again = import_credential_prototype(session, exported, actor=ACTOR)
    assert again.prototype_id == result.prototype_id


def test_a_preview_says_what_an_import_would_do_and_writes_nothing(session, engine):
    from multiflexi.core.manifests import preview_manifest

    before = snapshot(engine)
    new = preview_manifest(session, PROBE)
    assert (new.application_id, new.created, new.changed) == (None, True, True)
    assert snapshot(engine) == before

    imported = import_manifest(session, PROBE, actor=ACTOR)
    same = preview_manifest(session, PROBE)
    assert (same.application_id, same.created, same.changed) == (
        imported.application_id,
        False,
        False,
    )

    reordered = json.loads(PROBE.read_text())
    reordered["environment"] = dict(reversed(list(reordered["environment"].items())))
    assert len(reordered["environment"]) > 1
    assert preview_manifest(session, reordered).changed is False

    edited = json.loads(PROBE.read_text())
    edited["homepage"] = "https://probe.example/changed"
    before = snapshot(engine)
    differs = preview_manifest(session, edited)
    assert (differs.application_id, differs.created, differs.changed) == (
        imported.application_id,
        False,
        True,
    )
    assert snapshot(engine) == before
