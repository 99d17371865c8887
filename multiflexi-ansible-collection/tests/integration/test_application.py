from __future__ import annotations

import json

UUID = "5a0e3c1e-7d55-4b8e-9a41-2f0c7e1b9a11"


def manifest(version: str) -> dict:
    return {
        "uuid": UUID,
        "name": "Ansible integration app",
        "description": "imported by the collection's integration test",
        "executable": "/usr/bin/true",
        "version": version,
        "environment": {
            "IT_TOKEN": {"type": "password", "description": "a secret", "defval": "it-secret-42"}
        },
    }


def test_an_application_from_its_manifest_with_check_and_diff_modes(play, stack, tmp_path):
    path = tmp_path / "it.multiflexi.app.json"
    path.write_text(json.dumps(manifest("1.0")))

    first = play("application.yml", manifest_path=str(path))
    assert first.rc == 0, first.stdout[-3000:]
    assert first.changed("Application")
    app_id = first.results["Application"]["id"]
    shown = stack.api("GET", f"/applications/{app_id}")
    assert shown["uuid"] == UUID and shown["version"] == "1.0"
    assert "it-secret-42" not in first.stdout

    again = play("application.yml", manifest_path=str(path))
    assert again.rc == 0 and not again.changed("Application")

    path.write_text(json.dumps(manifest("2.0")))
    checked = play("application.yml", manifest_path=str(path), check=True, diff=True)
    assert checked.changed("Application")
    assert checked.results["Application"]["diff"] == {
        "before": {"version": "1.0"},
        "after": {"version": "2.0"},
    }
    assert stack.api("GET", f"/applications/{app_id}")["version"] == "1.0"

    changed = play("application.yml", manifest_path=str(path), app_enabled=False)
    assert changed.changed("Application")
    shown = stack.api("GET", f"/applications/{app_id}")
    assert (shown["version"], shown["enabled"]) == ("2.0", False)
    assert not play("application.yml", manifest_path=str(path), app_enabled=False).changed(
        "Application"
    )

    gone = play("application.yml", manifest_path=str(path), app_state="absent")
    assert gone.changed("Application")
    assert stack.api("GET", f"/applications/{app_id}")["status"] == 404
    again_gone = play("application.yml", manifest_path=str(path), app_state="absent")
    assert not again_gone.changed("Application")
