"""The credential pages: the companies' credentials (create, edit that keeps a secret,
delete refused while in use, the availability check), credential types and prototypes
with the import of a prototype document, for each role, and never a secret in a page."""

from __future__ import annotations

import json
import re

import pytest
from helpers import PASSWORD, SECRETS, signed_in

from multiflexi.core import audit, credentials, runtemplates
from multiflexi.core.models import CredentialPrototype

SYSTEM = audit.Actor.system("tests")
PLANTED = "PLANTED-"
NEW_SECRET = "PLANTED-typed-in-a-form-8e21"


def vault_values(world, credential_id: int) -> dict[str, str]:
    """The credential's stored values, read through the core (the test may look)."""
    with world.session() as session:
        return credentials.reveal(session, credential_id, actor=SYSTEM)


def post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={"csrf_token": client.token, **(data or {})}, **kwargs)


@pytest.fixture
def unused(world):
    """A second credential of company A that no run template uses."""
    with world.session() as session:
        made = credentials.create(
            session,
            company=world.ids["company_a"],
            credential_type_id=world.ids["ctype_a"],
            name="spare login",
            values={
                "PROBE_URL": "https://spare.example",
                "PROBE_TOKEN": SECRETS["credential_value"],
            },
            actor=SYSTEM,
        )
        return made.id


# -- the index ------------------------------------------------------------------------------


def test_the_index_lists_the_credentials_each_user_may_see(world, unused):
    ids = world.ids
    root = signed_in(world, "root").get("/credentials")
    assert root.status_code == 200
    rows = re.findall(r'data-credential-id="(\d+)"', root.text)
    assert {int(r) for r in rows} == {ids["credential_a"], ids["credential_b"], unused}
    alice = signed_in(world, "alice").get("/credentials").text
    assert {int(r) for r in re.findall(r'data-credential-id="(\d+)"', alice)} == {
        ids["credential_a"],
        unused,
    }
    assert "probe login beta" not in alice and "Company beta" not in alice
    assert "1 run template" in alice and "0 run templates" in alice
    assert "never checked" in alice
    nobody = signed_in(world, "nobody").get("/credentials")
    assert nobody.status_code == 200 and 'data-testid="empty"' in nobody.text


def test_the_company_filter_narrows_the_list_and_another_company_is_404(world, unused):
    ids = world.ids
    root = signed_in(world, "root")
    page = root.get(f"/credentials?company_id={ids['company_b']}").text
    assert re.findall(r'data-credential-id="(\d+)"', page) == [str(ids["credential_b"])]
    assert root.get("/credentials?company_id=").status_code == 200
    alice = signed_in(world, "alice")
    assert alice.get(f"/credentials?company_id={ids['company_b']}").status_code == 404


def test_the_index_shows_the_last_availability_check(world):
    alice = signed_in(world, "alice")
    credential = world.ids["credential_a"]
    answer = post(alice, f"/credentials/{credential}/check")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/credentials/{credential}#availability")
    page = alice.get("/credentials").text
    assert 'data-state="unknown"' in page and "never checked" not in page


# -- a credential ---------------------------------------------------------------------------


def test_a_credentials_page_shows_which_fields_are_stored_never_a_value(world):
    ids = world.ids
    page = signed_in(world, "amy").get(f"/credentials/{ids['credential_a']}")
    assert page.status_code == 200
    html = page.text
    assert PLANTED not in html and "https://probe.example" not in html
    assert 'data-testid="value-PROBE_TOKEN"' in html and "stored" in html
    assert f'href="/run-templates/{ids["rt_a"]}"' in html, "the run template that uses it"
    assert 'data-testid="edit"' in html and 'data-testid="check"' in html


def test_a_viewer_reads_a_credential_without_any_control(world):
    ids = world.ids
    bob = signed_in(world, "bob")
    html = bob.get(f"/credentials/{ids['credential_b']}").text
    assert 'data-testid="credential-name"' in html
    for control in ("edit", "delete", "check", "new-credential"):
        assert f'data-testid="{control}"' not in html
    posts = re.findall(r'<form method="post"[^>]*action="([^"]+)"', html)
    assert posts == ["/logout"]
    assert 'data-testid="new-credential' not in bob.get("/credentials").text


def test_every_page_of_another_companys_credential_is_404(world):
    ids = world.ids
    alice = signed_in(world, "alice")
    credential, ctype = ids["credential_b"], ids["ctype_b"]
    for path in (
        f"/credentials/{credential}",
        f"/credentials/{credential}/edit",
        f"/credentials/{credential}/delete",
        f"/credentials/types/{ctype}",
        f"/credentials/types/{ctype}/delete",
        f"/companies/{ids['company_b']}/credentials/new",
        f"/credentials?company_id={ids['company_b']}",
        f"/credentials/types?company_id={ids['company_b']}",
    ):
        assert alice.get(path).status_code == 404, path
    before = world.dump()
    for path in (
        f"/credentials/{credential}/edit",
        f"/credentials/{credential}/delete",
        f"/credentials/{credential}/check",
        f"/credentials/types/{ctype}/delete",
        f"/companies/{ids['company_b']}/credentials/new",
    ):
        assert post(alice, path, {"name": "x"}).status_code == 404, path
    assert post(alice, "/credentials/types", {"company_id": ids["company_b"]}).status_code == 404
    assert world.dump() == before


def test_a_viewers_posts_are_403_and_change_nothing(world):
    ids = world.ids
    bob = signed_in(world, "bob")
    credential = ids["credential_b"]
    before = world.dump()
    for path, data in (
        (f"/credentials/{credential}/edit", {"name": "renamed"}),
        (f"/credentials/{credential}/delete", {}),
        (f"/credentials/{credential}/check", {}),
        (f"/credentials/types/{ids['ctype_b']}/delete", {}),
        (
            f"/companies/{ids['company_b']}/credentials/new",
            {"type_id": ids["ctype_b"], "name": "mine"},
        ),
        (
            "/credentials/types",
            {"company_id": ids["company_b"], "prototype_id": ids["prototype"], "name": "t"},
        ),
    ):
        assert post(bob, path, data).status_code == 403, path
    assert bob.get(f"/credentials/{credential}/edit").status_code == 403
    assert world.dump() == before


def test_a_manager_creates_a_credential_and_goes_back_to_next(world):
    ids = world.ids
    amy = signed_in(world, "amy")
    base = f"/companies/{ids['company_a']}/credentials/new"
    picker = amy.get(base)
    assert picker.status_code == 200 and 'data-testid="field-type_id"' in picker.text
    form = amy.get(f"{base}?type_id={ids['ctype_a']}&next=/activate?step=4").text
    assert 'type="password"' in form and 'name="values.PROBE_TOKEN"' in form
    assert 'name="next" value="/activate?step=4"' in form

    # a refusal: each message beside its field, nothing stored
    before = world.dump()
    refused = post(
        amy,
        base,
        {"type_id": ids["ctype_a"], "name": "", "values.PROBE_URL": "not a url"},
    )
    assert refused.status_code == 422
    assert 'data-testid="error-name"' in refused.text
    assert 'data-testid="error-values.PROBE_URL"' in refused.text
    assert world.dump() == before

    made = post(
        amy,
        base,
        {
            "type_id": ids["ctype_a"],
            "name": "second login",
            "values.PROBE_URL": "https://second.example",
            "values.PROBE_TOKEN": NEW_SECRET,
            "next": "/activate?step=4",
        },
    )
    assert made.status_code == 303 and made.headers["Location"] == "/activate?step=4"
    with world.session() as session:
        found = credentials.list_credentials(session, company_id=ids["company_a"]).items
        created = next(c for c in found if c.name == "second login")
        created_id = created.id
    assert vault_values(world, created_id)["PROBE_TOKEN"] == NEW_SECRET


def test_next_must_be_a_path_of_this_site(world):
    ids = world.ids
    alice = signed_in(world, "alice")
    made = post(
        alice,
        f"/companies/{ids['company_a']}/credentials/new",
        {
            "type_id": ids["ctype_a"],
            "name": "elsewhere",
            "values.PROBE_URL": "https://x.example",
            "values.PROBE_TOKEN": "t",
            "next": "https://evil.example/",
        },
    )
    assert made.status_code == 303
    assert re.fullmatch(r"/credentials/\d+", made.headers["Location"])


def test_a_duplicate_name_is_shown_beside_the_name(world):
    ids = world.ids
    answer = post(
        signed_in(world, "alice"),
        f"/companies/{ids['company_a']}/credentials/new",
        {
            "type_id": ids["ctype_a"],
            "name": "probe login alpha",
            "values.PROBE_URL": "https://x.example",
            "values.PROBE_TOKEN": "t",
        },
    )
    assert answer.status_code == 422 and 'data-testid="error-name"' in answer.text


def test_an_edit_keeps_a_blank_secret_and_never_shows_it(world):
    ids = world.ids
    credential = ids["credential_a"]
    alice = signed_in(world, "alice")
    form = alice.get(f"/credentials/{credential}/edit").text
    assert PLANTED not in form and "https://probe.example" not in form
    assert "stored — leave blank to keep" in form
    saved = post(
        alice,
        f"/credentials/{credential}/edit",
        {"name": "probe login alpha", "values.PROBE_URL": "https://moved.example"},
    )
    assert saved.status_code == 303
    values = vault_values(world, credential)
    assert values == {
        "PROBE_URL": "https://moved.example",
        "PROBE_TOKEN": SECRETS["credential_value"],
    }
    # a new secret replaces it; "remove" removes a value
    edit = f"/credentials/{credential}/edit"
    post(alice, edit, {"name": "renamed", "values.PROBE_TOKEN": NEW_SECRET})
    assert vault_values(world, credential)["PROBE_TOKEN"] == NEW_SECRET
    post(alice, f"/credentials/{credential}/edit", {"name": "renamed", "clear.PROBE_URL": "on"})
    assert "PROBE_URL" not in vault_values(world, credential)
    # a refused edit shows the problem beside its field and keeps the old values
    refused = post(
        alice,
        f"/credentials/{credential}/edit",
        {"name": "renamed", "values.PROBE_URL": "no url", "values.PROBE_TOKEN": "another"},
    )
    assert refused.status_code == 422 and 'data-testid="error-values.PROBE_URL"' in refused.text
    assert "another" not in refused.text
    assert vault_values(world, credential)["PROBE_TOKEN"] == NEW_SECRET


def test_a_credential_in_use_is_not_deleted_and_its_run_templates_are_listed(world, unused):
    ids = world.ids
    alice = signed_in(world, "alice")
    credential = ids["credential_a"]
    page = alice.get(f"/credentials/{credential}/delete").text
    assert 'data-testid="in-use"' in page and 'data-testid="delete-submit"' not in page
    assert f'href="/run-templates/{ids["rt_a"]}#credentials"' in page
    before = world.dump()
    refused = post(alice, f"/credentials/{credential}/delete")
    assert refused.status_code == 422 and "probe alpha" in refused.text
    assert world.dump() == before

    confirm = alice.get(f"/credentials/{unused}/delete").text
    assert 'data-testid="delete-submit"' in confirm and "2 stored values" in confirm
    gone = post(alice, f"/credentials/{unused}/delete")
    assert gone.status_code == 303
    assert alice.get(f"/credentials/{unused}").status_code == 404


def test_the_check_shows_its_result_in_place_for_htmx(world):
    amy = signed_in(world, "amy")
    credential = world.ids["credential_a"]
    answer = post(amy, f"/credentials/{credential}/check", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert 'data-state="unknown"' in answer.text
    assert "no availability check is installed" in answer.text
    assert PLANTED not in answer.text
    page = amy.get(f"/credentials/{credential}").text
    assert "last checked" in page and "by amy" in page


# -- types and prototypes -------------------------------------------------------------------


def test_types_list_detail_create_and_delete(world):
    ids = world.ids
    alice = signed_in(world, "alice")
    listing = alice.get("/credentials/types").text
    assert f'data-type-id="{ids["ctype_a"]}"' in listing
    assert f'data-type-id="{ids["ctype_b"]}"' not in listing
    detail = alice.get(f"/credentials/types/{ids['ctype_a']}").text
    assert "SIGNING_KEY" in detail and PLANTED not in detail
    assert 'data-keyword="PROBE_TOKEN"' in detail

    refused = post(
        alice,
        "/credentials/types",
        {"company_id": ids["company_a"], "prototype_id": ids["prototype"], "name": " "},
    )
    assert refused.status_code == 422 and 'data-testid="error-name"' in refused.text
    made = post(
        alice,
        "/credentials/types",
        {"company_id": ids["company_a"], "prototype_id": ids["prototype"], "name": "second kind"},
    )
    assert made.status_code == 303
    type_id = int(made.headers["Location"].rsplit("/", 1)[1])
    assert "second kind" in alice.get(f"/credentials/types/{type_id}").text

    # a type with credentials is kept; one without goes
    in_use = alice.get(f"/credentials/types/{ids['ctype_a']}/delete").text
    assert 'data-testid="in-use"' in in_use and 'data-testid="delete-submit"' not in in_use
    assert post(alice, f"/credentials/types/{ids['ctype_a']}/delete").status_code == 422
    assert post(alice, f"/credentials/types/{type_id}/delete").status_code == 303
    assert alice.get(f"/credentials/types/{type_id}").status_code == 404


OWN_FIELDS = {
    "company_id": "",
    "prototype_id": "",
    "name": "Ticket desk",
    "fields.0.keyword": "DESK_URL",
    "fields.0.type": "url",
    "fields.0.default": "https://desk.example",
    "fields.0.description": "where the desk answers",
    "fields.0.required": "on",
    "fields.1.keyword": "",
    "fields.1.type": "string",
    "fields.2.keyword": "DESK_TOKEN",
    "fields.2.type": "password",
    "fields.2.secret": "on",
    "fields.2.required": "on",
}


def test_a_type_with_fields_of_its_own_is_made_without_a_prototype(world):
    ids = world.ids
    amy = signed_in(world, "amy")
    form = amy.get("/credentials/types").text
    assert 'data-testid="type-form"' in form and 'name="fields.0.keyword"' in form
    assert 'id="type-field-template"' in form
    made = post(amy, "/credentials/types", {**OWN_FIELDS, "company_id": ids["company_a"]})
    assert made.status_code == 303, made.text
    type_id = int(made.headers["Location"].rsplit("/", 1)[1])
    with world.session() as session:
        ctype = credentials.credential_type(session, type_id)
        assert ctype.prototype_id is None and ctype.company_id == ids["company_a"]
        specs = [
            (f.keyword, f.type, f.required, f.secret, f.default, f.description)
            for f in credentials.fields_of(ctype)
        ]
    assert specs == [
        ("DESK_URL", "url", True, False, "https://desk.example", "where the desk answers"),
        ("DESK_TOKEN", "password", True, True, None, None),
    ]
    page = amy.get(f"/credentials/types/{type_id}").text
    assert 'data-keyword="DESK_URL"' in page and 'data-keyword="DESK_TOKEN"' in page
    assert "none: fields of its own" in page


def test_a_bad_field_row_is_shown_beside_it_and_nothing_is_written(world):
    ids = world.ids
    alice = signed_in(world, "alice")
    before = world.dump()
    bad = {
        **OWN_FIELDS,
        "company_id": ids["company_a"],
        "fields.0.default": "not a url",
        "fields.2.keyword": "desk token",
    }
    refused = post(alice, "/credentials/types", bad)
    assert refused.status_code == 422
    # the rows keep their numbers (the blank row 1 was left out of what the core saw)
    assert 'data-testid="error-fields.0.default"' in refused.text
    assert 'data-testid="error-fields.2.keyword"' in refused.text
    assert "is not an environment variable name" in refused.text
    assert 'value="desk token"' in refused.text, "what was typed is shown again"
    nothing = post(
        alice,
        "/credentials/types",
        {"company_id": ids["company_a"], "prototype_id": "", "name": "empty"},
    )
    assert nothing.status_code == 422 and 'data-testid="error-prototype_id"' in nothing.text
    assert world.dump() == before


def test_only_who_may_write_to_a_company_is_offered_and_allowed_a_new_type(world):
    ids = world.ids
    bob, amy = signed_in(world, "bob"), signed_in(world, "amy")
    assert 'data-testid="type-form"' not in bob.get("/credentials/types").text
    assert 'data-testid="add-field"' not in bob.get("/credentials/types").text
    before = world.dump()
    sent = post(bob, "/credentials/types", {**OWN_FIELDS, "company_id": ids["company_b"]})
    assert sent.status_code == 403
    # a manager of company A has no say in company B (it is not even theirs to see)
    assert (
        post(amy, "/credentials/types", {**OWN_FIELDS, "company_id": ids["company_b"]}).status_code
        == 404
    )
    assert world.dump() == before


def test_making_a_type_from_the_new_credential_page_comes_back_with_it(world):
    ids = world.ids
    amy = signed_in(world, "amy")
    back = f"/companies/{ids['company_a']}/credentials/new?next=/activate"
    made = post(
        amy,
        "/credentials/types",
        {
            "company_id": ids["company_a"],
            "prototype_id": ids["prototype"],
            "name": "for the wizard",
            "next": back,
        },
    )
    assert made.status_code == 303
    assert re.fullmatch(re.escape(back) + r"&type_id=\d+", made.headers["Location"])


def test_prototypes_are_listed_with_their_fields_and_no_secret_default(world):
    with world.session() as session:
        proto = session.get(CredentialPrototype, world.ids["prototype"])
        proto.fields[1].default_value = "PLANTED-prototype-default"
        session.commit()
    for who in ("root", "bob", "nobody"):
        client = signed_in(world, who)
        listing = client.get("/credentials/prototypes").text
        assert "probe_api" in listing
        detail = client.get(f"/credentials/prototypes/{world.ids['prototype']}").text
        assert 'data-keyword="PROBE_TOKEN"' in detail and PLANTED not in detail
        assert ("Company alpha" in detail) == (who == "root")
    assert (
        'data-testid="import-prototype"'
        in signed_in(world, "root").get("/credentials/prototypes").text
    )
    assert (
        'data-testid="import-prototype"'
        not in signed_in(world, "alice").get("/credentials/prototypes").text
    )


def test_only_a_global_administrator_imports_a_prototype(world):
    alice = signed_in(world, "alice")
    assert alice.get("/credentials/prototypes/import").status_code == 403
    before = world.dump()
    assert post(alice, "/credentials/prototypes/import", {"pasted": "{}"}).status_code == 403
    assert world.dump() == before


def test_an_invalid_prototype_lists_each_problem_by_field_and_writes_nothing(world):
    root = signed_in(world, "root")
    before = world.dump()
    bad = {"code": "x y", "name": "Bad", "fields": [{"keyword": "1A", "type": "weird"}]}
    answer = post(root, "/credentials/prototypes/import", {"pasted": json.dumps(bad)})
    assert answer.status_code == 422
    fields = re.findall(r'data-testid="import-error" data-field="([^"]*)"', answer.text)
    assert {"code", "fields[0].keyword", "fields[0].type"} <= set(fields)
    assert "x y" in answer.text, "the pasted document is kept to be fixed"
    empty = post(root, "/credentials/prototypes/import", {"pasted": "  "})
    assert empty.status_code == 422
    broken = post(root, "/credentials/prototypes/import", {"pasted": "{not json"})
    assert broken.status_code == 422 and 'data-testid="import-error"' in broken.text
    assert world.dump() == before


def test_a_prototype_is_imported_from_an_upload(world):
    import io

    root = signed_in(world, "root")
    document = {
        "uuid": "6f1c1a4e-0000-4000-8000-00000000c0ff",
        "code": "mailbox",
        "name": "Mailbox",
        "version": "2.1",
        "fields": [
            {"keyword": "MAIL_HOST", "type": "string", "name": "Host", "required": True},
            {"keyword": "MAIL_PASSWORD", "type": "password", "name": "Password"},
        ],
    }
    answer = root.post(
        "/credentials/prototypes/import",
        data={
            "csrf_token": root.token,
            "document": (io.BytesIO(json.dumps(document).encode()), "mailbox.credprototype.json"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    page = root.get(answer.headers["Location"]).text
    assert "Mailbox" in page and 'data-keyword="MAIL_PASSWORD"' in page
    assert "2.1" in page


def test_no_page_of_the_area_shows_a_planted_secret(world, unused):
    ids = world.ids
    with world.session() as session:
        runtemplates.unbind_credential(session, ids["rt_a"], ids["credential_a"], actor=SYSTEM)
    paths = [
        "/credentials",
        "/credentials/types",
        "/credentials/prototypes",
        "/credentials/prototypes/import",
        f"/credentials/prototypes/{ids['prototype']}",
        f"/credentials/{ids['credential_a']}",
        f"/credentials/{ids['credential_a']}/edit",
        f"/credentials/{ids['credential_a']}/delete",
        f"/credentials/types/{ids['ctype_a']}",
        f"/credentials/types/{ids['ctype_a']}/delete",
        f"/companies/{ids['company_a']}/credentials/new?type_id={ids['ctype_a']}",
    ]
    root = signed_in(world, "root")
    post(root, f"/credentials/{ids['credential_a']}/check")
    for path in paths:
        answer = root.get(path)
        assert answer.status_code == 200, path
        assert PLANTED not in answer.text, path
        assert PASSWORD not in answer.text, path


# -- in a real browser ----------------------------------------------------------------------


def _check_page(browser, name: str, ready: str, status: int = 200) -> None:
    """The current page: loaded, no console error, no serious or critical axe violation in
    either theme, no planted secret, and its screenshots (laptop and phone, light and dark).
    A page answered with an error ``status`` (a refused form) logs that one line."""
    browser.wait(lambda: browser.has(ready), f"{ready} on the {name} page")
    for theme in ("light", "dark"):
        browser.theme(theme)
        assert browser.accessibility_violations() == [], f"{name} ({theme})"
    browser.screenshot(f"credentials-{name}")
    errors = browser.console_errors()
    if status != 200:
        own = f"{browser.base}{browser.path} - Failed to load resource: the server responded "
        errors = [e for e in errors if not (e.startswith(own) and f" {status} " in e)]
    assert errors == [], name
    assert PLANTED not in browser.source(), name


def test_a_credential_edit_that_keeps_its_secret(browser, world):
    ids = world.ids
    credential = ids["credential_a"]
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/credentials/{credential}/edit")
    browser.wait(lambda: browser.has("credential-form"), "the edit form")
    secret = browser.find("field-values.PROBE_TOKEN")
    assert secret.get_attribute("type") == "password"
    assert secret.get_attribute("value") == ""
    assert "stored — leave blank to keep" in browser.text()
    browser.fill({"values.PROBE_URL": "https://changed.example"})
    browser.submit("save-credential")
    browser.wait(lambda: browser.path == f"/credentials/{credential}", "the credential's page")
    assert "saved" in browser.find("flash").text
    assert vault_values(world, credential) == {
        "PROBE_URL": "https://changed.example",
        "PROBE_TOKEN": SECRETS["credential_value"],
    }
    assert PLANTED not in browser.source()
    assert browser.console_errors() == []


def test_the_availability_check_answers_in_place(browser, world):
    browser.sign_in("amy", PASSWORD)
    browser.open(f"/credentials/{world.ids['credential_a']}")
    browser.wait(lambda: browser.has("check"), "the check button")
    browser.find("check").click()
    browser.wait(lambda: browser.has("check-reason"), "the check's answer")
    assert browser.find("availability-state").get_attribute("data-state") == "unknown"
    assert browser.path == f"/credentials/{world.ids['credential_a']}", "no page change"
    assert browser.console_errors() == []


def test_a_prototype_import_with_an_error_lists_it_by_field(browser, world):
    browser.sign_in("root", PASSWORD)
    browser.open("/credentials/prototypes/import")
    browser.wait(lambda: browser.has("import-form"), "the import form")
    before = world.dump()
    bad = {
        "uuid": "6f1c1a4e-0000-4000-8000-00000000c0aa",
        "code": "bad one",
        "name": "Bad",
        "version": "1",
        "fields": [{"keyword": "TOKEN", "type": "weird"}],
    }
    browser.find("field-pasted").send_keys(json.dumps(bad))
    browser.submit("import-submit")
    browser.wait(lambda: browser.has("import-errors"), "the problems")
    listed = {
        e.get_attribute("data-field") for e in browser.find_all('[data-testid="import-error"]')
    }
    assert {"code", "fields[0].type"} <= listed
    assert world.dump() == before
    _check_page(browser, "import-errors", "import-errors", 422)


def test_every_credential_page_in_a_browser(browser, world, unused):
    ids = world.ids
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/credentials/{ids['credential_a']}")
    browser.wait(lambda: browser.has("check"), "the check button")
    browser.find("check").click()
    browser.wait(lambda: browser.has("check-reason"), "the check's answer")
    browser.console_errors()
    for name, path, ready in (
        ("index", "/credentials", "credential-row"),
        ("detail", f"/credentials/{ids['credential_a']}", "credential-name"),
        ("edit", f"/credentials/{ids['credential_a']}/edit", "credential-form"),
        ("new-type-step", f"/companies/{ids['company_a']}/credentials/new", "type-step"),
        (
            "new",
            f"/companies/{ids['company_a']}/credentials/new?type_id={ids['ctype_a']}",
            "credential-form",
        ),
        ("delete-in-use", f"/credentials/{ids['credential_a']}/delete", "in-use"),
        ("delete", f"/credentials/{unused}/delete", "delete-submit"),
        ("types", "/credentials/types", "type-form"),
        ("type", f"/credentials/types/{ids['ctype_a']}", "type-name"),
        ("type-delete", f"/credentials/types/{ids['ctype_a']}/delete", "in-use"),
        ("prototypes", "/credentials/prototypes", "prototype-row"),
        ("prototype", f"/credentials/prototypes/{ids['prototype']}", "prototype-name"),
    ):
        browser.open(path)
        _check_page(browser, name, ready)
    browser.sign_out()
    browser.sign_in("root", PASSWORD)
    browser.open("/credentials/prototypes/import")
    _check_page(browser, "import", "import-form")


def _click(browser, testid: str) -> None:
    """Click an element once scrolled to the middle of the window (not under the top bar)."""
    element = browser.find(testid)
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def test_a_type_with_its_own_fields_made_in_a_browser(browser, world):
    browser.sign_in("alice", PASSWORD)
    browser.open("/credentials/types")
    browser.wait(lambda: browser.has("add-field"), "the add a field button")
    rows = browser.find_all('[data-testid="type-field-row"]')
    assert len(rows) == 3
    _click(browser, "add-field")
    browser.wait(lambda: browser.has("field-fields.3.keyword"), "a fourth row")
    _click(browser, "remove-field-1")
    assert len(browser.find_all('[data-testid="type-field-row"]')) == 3
    browser.fill({"name": "Browser desk", "fields.0.keyword": "DESK_URL"})
    browser.fill({"fields.3.keyword": "DESK_TOKEN"})
    _click(browser, "field-fields.3.secret")
    _check_page(browser, "new-type-rows", "type-form")
    browser.screenshot("credentials-new-type-rows-form", at="type-field-rows")
    browser.submit("create-type")
    browser.wait(lambda: browser.has("type-name"), "the type's page")
    assert browser.find("type-name").text == "Browser desk"
    shown = {e.get_attribute("data-keyword") for e in browser.find_all('[data-testid="field-row"]')}
    assert shown == {"DESK_URL", "DESK_TOKEN"}
    assert browser.has("flag-secret")
    _check_page(browser, "own-type", "type-name")
