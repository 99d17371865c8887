"""Every face shows a stored secret as multiflexi.core.redaction says, and nothing else.

For each kind of secret the core's redaction module names (:data:`KINDS`), a
distinctive value is planted in one database; the object is then read through each
face that shows it: the API's JSON, the compatibility layer's JSON and the CLI's
``--format json``. No planted secret may appear in any answer, and where the answer
holds the value it holds ``REDACTED`` (the plain values beside it stay as they are).

A kind added to the registry without a reader here fails
``test_every_kind_of_the_registry_is_read_through_the_faces``.

It lives in multiflexi-all, the one distribution that installs every face (the
server's own tests run without the CLI).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import multiflexi.cli
import multiflexi.database as database
import multiflexi.server
from multiflexi.cli.main import main as cli_main
from multiflexi.core import (
    actions,
    audit,
    companies,
    config,
    credentials,
    manifests,
    redaction,
    runtemplates,
    tokens,
    users,
)
from multiflexi.core.redaction import REDACTED
from multiflexi.core.testing import redis_server
from multiflexi.server import create_app
from multiflexi.server.compat import PREFIX as COMPAT

MASTER_KEY = "all-test-master-key-0123456789-abcdefghijk"
#: one distinctive secret per kind of the registry
PLANTED = {
    "application_field_default": "PLANTED-app-default-3e1f",
    "credential_field_default": "PLANTED-type-field-default-7a2c",
    "credential_type_settings": "PLANTED-type-setting-90d4",
    "company_variable": "PLANTED-company-variable-c51b",
    "run_template_value": "PLANTED-run-template-value-e6f0",
    "credential_values": "PLANTED-credential-value-2b88",
    "run_template_action_options": "PLANTED-action-url-token-81b5",
    "audit_details": "PLANTED-audit-changed-value-4d17",
}
MANIFEST: dict[str, Any] = {
    "name": "Redaction probe",
    "uuid": "6f1c1a4e-0000-4000-8000-00000000a023",
    "description": "Shows what it is given",
    "executable": "/usr/bin/env",
    "version": "1.0.0",
    "topics": ["test"],
    "environment": {
        "REPORT_NAME": {"type": "string", "description": "name", "defval": "report"},
        "API_PASSWORD": {
            "type": "password",
            "description": "secret",
            "defval": PLANTED["application_field_default"],
        },
    },
    "exitCodes": {"0": {"severity": "success", "description": "done"}},
}
PROTOTYPE = {
    "uuid": "6f1c1a4e-0000-4000-8000-00000000c023",
    "code": "probe_redaction",
    "name": "Probe redaction",
    "version": "1.0",
    "fields": [
        {"keyword": "PROBE_URL", "type": "url", "name": "URL"},
        {"keyword": "PROBE_TOKEN", "type": "password", "name": "Token"},
    ],
}


@dataclasses.dataclass
class World:
    """One database with a secret of every kind, and the three faces on it."""

    app: Any
    token: str
    cli_env: dict[str, str]
    ids: dict[str, int]

    def api(self, path: str, method: str = "GET", **body: Any) -> tuple[str, Any]:
        """(body text, JSON) of a call through the Flask app, as the administrator."""
        response = self.app.test_client().open(
            path,
            method=method,
            headers={"Authorization": f"Bearer {self.token}"},
            json=body or None,
        )
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        return response.get_data(as_text=True), response.get_json()

    def cli(self, *args: str) -> tuple[str, Any]:
        """(stdout, JSON) of ``multiflexi-cli --format json ARGS``."""
        result = CliRunner().invoke(
            cli_main,
            ["--format", "json", *args],
            env=self.cli_env,
            catch_exceptions=False,
            prog_name="multiflexi-cli",
        )
        assert result.exit_code == 0, (args, result.stderr)
        assert [s for s in PLANTED.values() if s in result.stderr] == [], args
        return result.stdout, json.loads(result.stdout)


@dataclasses.dataclass
class Reading:
    """What one face answered: its whole text, the values it shows where a secret is,
    and (shown, stored) pairs of the plain values beside them."""

    face: str
    text: str
    secret_shown: list[Any]
    plain: list[tuple[Any, Any]] = dataclasses.field(default_factory=list)


def _populate(session) -> tuple[dict[str, int], str]:
    actor = audit.Actor.system("tests")
    ids: dict[str, int] = {}
    root = users.create(session, "root", actor=actor, is_admin=True)
    _, token = tokens.create(session, root.id, "root's token", actor=actor)
    ids["application"] = manifests.import_manifest(session, MANIFEST, actor=actor).application_id
    proto = manifests.import_credential_prototype(session, PROTOTYPE, actor=actor)
    company = companies.create(session, name="Company redacted", slug="redacted", actor=actor)
    ids["company"] = company.id
    companies.set_variable(
        session, company.id, "COMPANY_SECRET", PLANTED["company_variable"], secret=True, actor=actor
    )
    companies.set_variable(session, company.id, "COMPANY_PLAIN", "visible", actor=actor)
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=ids["application"],
        actor=actor,
        name="probe",
        values={"API_PASSWORD": PLANTED["audit_details"], "REPORT_NAME": "weekly"},
    )
    # the secret the log saw change first, then the one the run template now holds
    runtemplates.set_values(
        session, rt.id, {"API_PASSWORD": PLANTED["run_template_value"]}, actor=actor
    )
    ids["rt"] = rt.id
    actions.put_action(
        session,
        rt.id,
        "failure",
        "webhook",
        {"url": f"https://hooks.example/x?token={PLANTED['run_template_action_options']}"},
        actor=actor,
    )
    actions.put_action(session, rt.id, "success", "reschedule", {"delay": 90}, actor=actor)
    ctype = credentials.create_type(
        session,
        company=company.id,
        name="probe type",
        actor=actor,
        prototype_ref=proto.prototype_id,
        fields=[
            {
                "keyword": "TYPE_PIN",
                "type": "password",
                "secret": True,
                "default": PLANTED["credential_field_default"],
            },
            {"keyword": "TYPE_REGION", "type": "string", "default": "eu"},
        ],
        settings={"SIGNING_KEY": PLANTED["credential_type_settings"]},
    )
    ids["ctype"] = ctype.id
    credential = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="probe login",
        values={
            "PROBE_URL": "https://probe.example",
            "PROBE_TOKEN": PLANTED["credential_values"],
            "TYPE_PIN": PLANTED["credential_values"] + "-pin",
        },
        actor=actor,
    )
    ids["credential"] = credential.id
    return ids, token


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("redaction")
    url = f"sqlite:///{tmp / 'multiflexi.sqlite'}"
    database.upgrade(url)
    with redis_server() as redis_url:
        environ = {
            "DATABASE_URL": url,
            "MULTIFLEXI_DATA_DIR": str(tmp),
            "ENCRYPTION_MASTER_KEY": MASTER_KEY,
            "MULTIFLEXI_TIMEZONE": "UTC",
            "REDIS_URL": redis_url,
            "MULTIFLEXI_SECRET_KEY": "test-secret-key",
        }
        settings = config.load_settings(environ=environ, env_file=os.devnull)
        engine = config.create_engine(settings.database_url)
        with config.session_factory(engine, settings)() as session:
            ids, token = _populate(session)
        engine.dispose()
        app = create_app(settings)
        app.config["TESTING"] = True
        cli_env = {**environ, "MULTIFLEXI_ENV_FILE": "", "MULTIFLEXI_FORMAT": ""}
        yield World(app=app, token=token, cli_env=cli_env, ids=ids)


def _by(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    (found,) = [item for item in items if item[key] == value]
    return found


# -- one reader per kind: the object through every face that shows it -------------------


def read_application_field_default(world: World) -> list[Reading]:
    app_id = world.ids["application"]
    text, one = world.api(f"/api/v1/applications/{app_id}")
    listed_text, listed = world.api("/api/v1/applications")
    listed_app = _by(listed["items"], "id", app_id)
    compat_text, compat = world.api(f"{COMPAT}/app/{app_id}.json")
    compat_list_text, compat_list = world.api(f"{COMPAT}/apps.json")
    cli_text, cli = world.cli("application", "get", "--id", str(app_id))
    readings = []
    for face, body, fields in (
        ("api get", text, one["fields"]),
        ("api list", listed_text, listed_app["fields"]),
    ):
        readings.append(
            Reading(
                face,
                body,
                [_by(fields, "name", "API_PASSWORD")["default_value"]],
                [(_by(fields, "name", "REPORT_NAME")["default_value"], "report")],
            )
        )
    for face, body, environment in (
        ("compat get", compat_text, compat["environment"]),
        ("compat list", compat_list_text, compat_list[str(app_id)]["environment"]),
    ):
        readings.append(
            Reading(
                face,
                body,
                [environment["API_PASSWORD"]["defval"]],
                [(environment["REPORT_NAME"]["defval"], "report")],
            )
        )
    readings.append(
        Reading(
            "cli get",
            cli_text,
            [_by(cli["fields"], "name", "API_PASSWORD")["default"]],
            [(_by(cli["fields"], "name", "REPORT_NAME")["default"], "report")],
        )
    )
    return readings


def read_credential_field_default(world: World) -> list[Reading]:
    ctype = world.ids["ctype"]
    text, one = world.api(f"/api/v1/credential-types/{ctype}")
    listed_text, listed = world.api(f"/api/v1/credential-types?company_id={world.ids['company']}")
    cli_text, _ = world.cli("credential-type", "get", "--id", str(ctype))
    cli_list_text, _ = world.cli("credential-type", "list", "--company-id", "redacted")
    readings = []
    for face, body, fields in (
        ("api get", text, one["fields"]),
        ("api list", listed_text, _by(listed["items"], "id", ctype)["fields"]),
    ):
        readings.append(
            Reading(
                face,
                body,
                [_by(fields, "keyword", "TYPE_PIN")["default"]],
                [(_by(fields, "keyword", "TYPE_REGION")["default"], "eu")],
            )
        )
    # the CLI shows a type's fields without their defaults
    readings += [Reading("cli get", cli_text, []), Reading("cli list", cli_list_text, [])]
    return readings


def read_credential_type_settings(world: World) -> list[Reading]:
    ctype = world.ids["ctype"]
    text, one = world.api(f"/api/v1/credential-types/{ctype}")
    cli_text, _ = world.cli("credential-type", "get", "--id", str(ctype))
    return [
        Reading(
            "api get",
            text,
            list(one["settings"].values()),
            [(list(one["settings"]), ["SIGNING_KEY"])],
        ),
        Reading("cli get", cli_text, []),  # the CLI does not show settings
    ]


def read_company_variable(world: World) -> list[Reading]:
    company = world.ids["company"]
    text, listed = world.api(f"/api/v1/companies/{company}/environment")
    # the answer to setting it (to the value it has) shows it too
    one_text, one = world.api(
        f"/api/v1/companies/{company}/environment/COMPANY_SECRET",
        "PUT",
        value=PLANTED["company_variable"],
        secret=True,
    )
    compat_text, _ = world.api(f"{COMPAT}/company/{company}.json")
    cli_text, cli = world.cli("company-env", "list", "--company-id", str(company))
    return [
        Reading(
            "api list",
            text,
            [_by(listed["items"], "name", "COMPANY_SECRET")["value"]],
            [(_by(listed["items"], "name", "COMPANY_PLAIN")["value"], "visible")],
        ),
        Reading("api put", one_text, [one["value"]], [(one["secret"], True)]),
        Reading("compat get", compat_text, []),  # the original shows no variables
        Reading(
            "cli list",
            cli_text,
            [_by(cli, "name", "COMPANY_SECRET")["value"]],
            [(_by(cli, "name", "COMPANY_PLAIN")["value"], "visible")],
        ),
    ]


def read_run_template_value(world: World) -> list[Reading]:
    rt = world.ids["rt"]
    text, one = world.api(f"/api/v1/run-templates/{rt}")
    values_text, values = world.api(f"/api/v1/run-templates/{rt}/values")
    compat_text, _ = world.api(f"{COMPAT}/runtemplate/{rt}.json")
    cli_text, cli = world.cli("run-template", "get", "--id", str(rt))
    secret_item = _by(values["items"], "name", "API_PASSWORD")
    return [
        Reading(
            "api get",
            text,
            [one["values"]["API_PASSWORD"]],
            [(one["values"]["REPORT_NAME"], "weekly")],
        ),
        Reading(
            "api values",
            values_text,
            [secret_item["value"]],
            [
                (secret_item["secret"], True),
                (_by(values["items"], "name", "REPORT_NAME")["value"], "weekly"),
                (_by(values["items"], "name", "REPORT_NAME")["secret"], False),
            ],
        ),
        Reading("compat get", compat_text, []),  # the original shows no configuration
        Reading(
            "cli get",
            cli_text,
            [cli["config"]["API_PASSWORD"]],
            [
                (cli["config"]["REPORT_NAME"], "weekly"),
                (list(cli["config"]), sorted(cli["config"])),
            ],
        ),
    ]


def read_run_template_action_options(world: World) -> list[Reading]:
    rt = world.ids["rt"]
    text, lists = world.api(f"/api/v1/run-templates/{rt}/actions")
    one_text, one = world.api(f"/api/v1/run-templates/{rt}/actions?mode=failure")
    # the answer to saving the list as it was shown keeps the secret and shows it redacted
    shown = lists["failure"][0]["options"]
    put_text, put = world.api(
        f"/api/v1/run-templates/{rt}/actions",
        "PUT",
        failure=[{"action": "webhook", "options": shown}],
    )
    cli_text, cli = world.cli("run-template", "actions", "--id", str(rt))
    readings = [
        Reading(
            face,
            body,
            [answer["failure"][0]["options"]["url"]],
            [(answer["failure"][0]["action"], "webhook")]
            + ([(answer["success"][0]["options"], {"delay": 90})] if answer["success"] else []),
        )
        for face, body, answer in (
            ("api get", text, lists),
            ("api get mode", one_text, one),
            ("api put", put_text, put),
        )
    ]
    readings.append(
        Reading(
            "cli actions",
            cli_text,
            [_by(cli, "action", "webhook")["options"]["url"]],
            [(_by(cli, "action", "reschedule")["options"], {"delay": 90})],
        )
    )
    return readings


def read_credential_values(world: World) -> list[Reading]:
    credential = world.ids["credential"]
    company = world.ids["company"]
    text, one = world.api(f"/api/v1/credentials/{credential}")
    listed_text, listed = world.api(f"/api/v1/credentials?company_id={company}")
    cli_text, cli = world.cli("credential", "get", "--id", str(credential))
    cli_list_text, cli_list = world.cli("credential", "list", "--company-id", str(company))
    names = ["PROBE_TOKEN", "PROBE_URL", "TYPE_PIN"]
    return [
        Reading(face, body, list(values.values()), [(sorted(values), names)])
        for face, body, values in (
            ("api get", text, one["values"]),
            ("api list", listed_text, _by(listed["items"], "id", credential)["values"]),
            ("cli get", cli_text, cli["values"]),
            ("cli list", cli_list_text, _by(cli_list, "id", credential)["values"]),
        )
    ]


def read_audit_details(world: World) -> list[Reading]:
    text, log = world.api("/api/v1/audit?limit=1000")
    cli_text, cli = world.cli("audit", "list", "--limit", "1000")
    readings = []
    for face, body, entries in (("api list", text, log["items"]), ("cli list", cli_text, cli)):
        changes = [
            e["details"]
            for e in entries
            if e["entity_type"] == "run_template" and e["action"] == "update"
        ]
        # the log names the secret that changed (its value is in no entry: see the text)
        readings.append(
            Reading(face, body, [], [(changes, [{"changed": [], "values": ["API_PASSWORD"]}])])
        )
    return readings


READERS: dict[str, Callable[[World], list[Reading]]] = {
    "application_field_default": read_application_field_default,
    "credential_field_default": read_credential_field_default,
    "credential_type_settings": read_credential_type_settings,
    "company_variable": read_company_variable,
    "run_template_value": read_run_template_value,
    "credential_values": read_credential_values,
    "run_template_action_options": read_run_template_action_options,
    "audit_details": read_audit_details,
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_every_face_shows_a_planted_secret_redacted(world, kind):
    readings = READERS[kind](world)
    assert any(r.face.startswith("api") for r in readings)
    assert any(r.face.startswith("cli") for r in readings)
    assert kind == "audit_details" or any(r.secret_shown for r in readings)
    for reading in readings:
        leaked = [name for name, secret in PLANTED.items() if secret in reading.text]
        assert leaked == [], reading.face
        assert reading.secret_shown == [REDACTED] * len(reading.secret_shown), reading.face
        for shown, stored in reading.plain:
            assert shown == stored, reading.face


def test_every_kind_of_the_registry_is_read_through_the_faces():
    assert set(READERS) == set(redaction.KINDS) == set(PLANTED)


def test_every_function_of_the_redaction_module_belongs_to_a_kind():
    functions = {
        name for name in redaction.__all__ if callable(getattr(redaction, name)) and name != "KINDS"
    }
    registered = {f.__name__ for shown_by in redaction.KINDS.values() for f in shown_by}
    assert functions == registered


def face_sources() -> list[Path]:
    roots = [Path(p) for p in (*multiflexi.server.__path__, *multiflexi.cli.__path__)]
    files = sorted(f for root in roots for f in root.rglob("*.py"))
    assert any(f.name == "views.py" and f.parent.name == "compat" for f in files)
    return files


def marker_uses(path: Path) -> list[str]:
    """Where a face names the redaction marker (it asks the core's redaction module)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.Constant) and node.value == REDACTED:
            names.append(repr(node.value))
        found += [(node.lineno, n) for n in names if n in ("REDACTED", "'***'")]
    return [f"{path.name}:{line}: {name}" for line, name in sorted(found)]


def test_no_face_decides_a_redaction_itself():
    assert [hit for path in face_sources() for hit in marker_uses(path)] == []


def test_the_marker_rule_finds_a_face_that_decides(tmp_path):
    face = tmp_path / "face.py"
    face.write_text(
        "from multiflexi.core.redaction import REDACTED\n"
        "def show(v):\n"
        "    return REDACTED if v.secret else v.value\n"
        "MASK = '***'\n"
    )
    assert marker_uses(face) == [
        "face.py:1: REDACTED",
        "face.py:3: REDACTED",
        "face.py:4: '***'",
    ]
