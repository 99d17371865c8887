"""Applications and credential prototypes: import from files and folders, validate, export."""

import json

from multiflexi.core import apps, credentials, models
from multiflexi.core.testing import count


def test_import_a_folder_of_manifests(cli, session, fixtures):
    results = cli.json("application", "import-json", "--file", str(fixtures["apps"]))
    assert len(results) == 3
    assert all(r["created"] for r in results)
    names = {a["name"] for a in cli.json("application", "list")}
    assert "Sleep" in names
    assert count(session, models.Application) == 3


def test_importing_again_updates_instead_of_duplicating(cli, session, fixtures):
    first = cli.json("application", "import-json", "--file", str(fixtures["sleep"]))
    again = cli.json("application", "import-json", "--file", str(fixtures["sleep"]))
    assert first["application_id"] == again["application_id"]
    assert (first["created"], again["created"]) == (True, False)
    assert count(session, models.Application) == 1


def test_a_bad_manifest_file_is_one_line_exit_1_and_nothing_imported(cli, session, tmp_path):
    bad = tmp_path / "broken.app.json"
    bad.write_text('{"name": "x", ')
    result = cli("application", "import-json", "--file", str(bad))
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "not valid JSON" in result.stderr
    assert count(session, models.Application) == 0


def test_a_folder_with_one_bad_manifest_imports_the_rest_and_exits_1(cli, session, tmp_path):
    (tmp_path / "good.app.json").write_text(
        json.dumps({"name": "good", "description": "d", "executable": "true", "environment": {}})
    )
    (tmp_path / "bad.app.json").write_text(json.dumps({"name": "bad"}))
    result = cli("--format", "json", "application", "import-json", "--file", str(tmp_path))
    assert result.exit_code == 1
    results = json.loads(result.stdout)
    assert [("error" in r) for r in results] == [True, False]  # sorted: bad, good
    assert json.loads(result.stderr.splitlines()[0])["kind"] == "validation"
    assert [a.name for a in session.query(models.Application)] == ["good"]


def test_validate_json(cli, fixtures, tmp_path):
    ok = cli.json("application", "validate-json", "--file", str(fixtures["sleep"]))
    assert ok["importable"] is True
    bad = tmp_path / "bad.app.json"
    bad.write_text(json.dumps({"name": "only a name"}))
    result = cli("--format", "json", "application", "validate-json", "--file", str(bad))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["importable"] is False
    assert any("executable" in v for v in report["violations"])


def test_get_by_uuid_and_export_round_trip(cli, session, fixtures, tmp_path):
    app_id = cli.json("application", "import-json", "--file", str(fixtures["sleep"]))[
        "application_id"
    ]
    uuid = apps.get(session, app_id).uuid
    data = cli.json("application", "get", "--uuid", uuid)
    assert data["id"] == app_id
    assert [f["name"] for f in data["fields"]] == ["NUMBER", "UNIT"]
    out = tmp_path / "export.app.json"
    assert cli("application", "export-json", "--id", str(app_id), "--file", str(out)).exit_code == 0
    exported = json.loads(out.read_text())
    assert exported["uuid"] == uuid
    assert set(exported["environment"]) == {"NUMBER", "UNIT"}
    # the export imports again as the same application
    again = cli.json("application", "import-json", "--file", str(out))
    assert (again["application_id"], again["created"]) == (app_id, False)


def test_create_update_delete(cli, session):
    created = cli.json("application", "create", "--name", "probe", "--executable", "/bin/true")
    app_id = created["application_id"]
    assert cli.json("application", "update", "--id", str(app_id), "--enabled", "false")["updated"]
    assert apps.get(session, app_id).enabled is False
    assert cli.json("application", "delete", "--id", str(app_id))["deleted"]
    assert count(session, models.Application) == 0


def test_remove_json_deletes_the_application_of_a_manifest(cli, session, fixtures):
    cli.json("application", "import-json", "--file", str(fixtures["sleep"]))
    removed = cli.json("application", "remove-json", "--file", str(fixtures["sleep"]))
    assert removed["deleted"] is True
    assert count(session, models.Application) == 0
    result = cli("application", "remove-json", "--file", str(fixtures["sleep"]))
    assert result.exit_code == 3


def test_credential_prototype_import_list_get_export(cli, session, fixtures, tmp_path):
    imported = cli.json("credential-prototype", "import-json", "--file", str(fixtures["prototype"]))
    proto_id = imported["prototype_id"]
    listed = cli.json("credential-prototype", "list")
    assert [p["code"] for p in listed] == ["Probe"]
    got = cli.json("credential-prototype", "get", "--code", "Probe")
    assert got["id"] == proto_id
    assert "PROBE_API_KEY" in [f["keyword"] for f in got["fields"]]
    exported = cli("credential-prototype", "export-json", "--id", str(proto_id))
    assert json.loads(exported.stdout)["code"] == "Probe"
    assert credentials.prototype(session, "Probe").id == proto_id


def test_credential_prototype_validate_json_rejects_a_bad_file(cli, tmp_path):
    bad = tmp_path / "x.credprototype.json"
    bad.write_text(json.dumps({"code": "x"}))
    result = cli("--format", "json", "credential-prototype", "validate-json", "--file", str(bad))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["valid"] is False


def test_credential_prototype_import_answers_with_the_originals_key(cli, fixtures):
    imported = cli.json("credential-prototype", "import-json", "--file", str(fixtures["prototype"]))
    assert imported["credential_prototype_id"] == imported["prototype_id"]
    assert set(imported) == {"file", "credential_prototype_id", "prototype_id", "created"}


def test_export_json_to_a_file_answers_exported_and_the_file(cli, fixtures, tmp_path):
    app_id = cli.json("application", "import-json", "--file", str(fixtures["sleep"]))[
        "application_id"
    ]
    out = tmp_path / "export.app.json"
    answer = cli.json("application", "export-json", "--id", str(app_id), "--file", str(out))
    assert answer == {"exported": True, "file": str(out)}
    assert json.loads(out.read_text())["name"] == "Sleep"
    proto_id = cli.json(
        "credential-prototype", "import-json", "--file", str(fixtures["prototype"])
    )["credential_prototype_id"]
    proto_out = tmp_path / "p.credprototype.json"
    answer = cli.json(
        "credential-prototype", "export-json", "--id", str(proto_id), "--file", str(proto_out)
    )
    assert answer == {"exported": True, "file": str(proto_out)}
    assert json.loads(proto_out.read_text())["code"] == "Probe"


def test_credential_prototype_validate_json_has_the_same_keys_valid_or_not(cli, fixtures, tmp_path):
    bad = tmp_path / "x.credprototype.json"
    bad.write_text(json.dumps({"code": "x"}))
    result = cli("--format", "json", "credential-prototype", "validate-json", "--file", str(bad))
    good = cli.json("credential-prototype", "validate-json", "--file", str(fixtures["prototype"]))
    assert (
        set(json.loads(result.stdout)) == set(good) == {"file", "valid", "violations", "warnings"}
    )


def test_application_get_marks_fields_secret_by_name_and_hides_their_defaults(
    cli, fixtures, tmp_path
):
    # the csas-sharepoint manifest types its key and token as plain text
    csas = fixtures["apps"] / "Spoje-NET__csas-sharepoint__csas-sharepoint.app.json"
    doc = json.loads(csas.read_text())
    doc["environment"]["CSAS_API_KEY"]["defval"] = "k-1234567890"
    path = tmp_path / "csas.app.json"
    path.write_text(json.dumps(doc))
    app_id = cli.json("application", "import-json", "--file", str(path))["application_id"]
    result = cli("--format", "json", "application", "get", "--id", str(app_id))
    fields = {f["name"]: f for f in json.loads(result.output)["fields"]}
    assert fields["CSAS_API_KEY"]["secret"] and fields["CSAS_ACCESS_TOKEN"]["secret"]
    assert fields["CSAS_API_KEY"]["default"] == "***"
    assert "k-1234567890" not in result.output


def test_a_uuid_not_in_rfc_4122_form_imports_with_a_warning(cli, session, fixtures, tmp_path):
    loose = "6ed1a4c5-d6d2-4b9c-b6e4-1z5a9f2b8c7d"
    manifest = json.loads(fixtures["sleep"].read_text()) | {"uuid": loose}
    path = tmp_path / "loose.multiflexi.app.json"
    path.write_text(json.dumps(manifest))
    result = cli("--format", "json", "application", "import-json", "--file", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"loose.multiflexi.app.json: uuid: '{loose}' is not an RFC 4122 uuid" in result.stderr
    app_id = json.loads(result.stdout)["application_id"]
    assert session.get(models.Application, app_id).uuid == loose
    assert cli.json("application", "get", "--id", str(app_id))["uuid"] == loose
