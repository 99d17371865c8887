"""The web UI's applications: the catalogue (tags, search, the page's language), an
application's page, importing a manifest (upload or paste), export, delete, and one
company's catalogue with assign and unassign; access by role; no secret in any page."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from helpers import PASSWORD, check_page, manifest, signed_in

from multiflexi.core import audit, companies, manifests, models
from multiflexi.core.testing import count

SYSTEM = audit.Actor.system("tests")
#: real manifests of the original's applications (kept with the core's tests)
APPS = Path(__file__).parents[2] / "multiflexi-core" / "tests" / "fixtures" / "apps"
#: has its name and description in Czech too
FIO = APPS / "Spoje-NET__fiobank-statement-tools__fiobank_statement_downloader.multiflexi.app.json"
SECRET_DEFAULT = "PLANTED-secret-default-6d1f"
CZECH = {"Accept-Language": "cs-CZ,cs;q=0.9"}


def post(client, path: str, headers: dict | None = None, **data):
    return client.post(path, data={"csrf_token": client.token, **data}, headers=headers or {})


def texts_of(html: str, name: str) -> list[str]:
    """The text of each element with data-testid ``name`` (one level: no nested tags)."""
    found = re.findall(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    return [unescape(text).strip() for text in found]


@pytest.fixture
def shelf(world) -> dict[str, int]:
    """Three more applications with tags, one with a secret default, and the Fio one."""
    ids = {}
    with world.session() as session:
        for name, tags, extra in (
            ("Bank Sync", ["bank", "sync"], {}),
            ("Bank Report", ["bank", "report"], {"executable": "/opt/reports/bankrep"}),
            (
                "Mailer",
                ["mail"],
                {
                    "environment": {
                        "SMTP_PASSWORD": {"type": "password", "defval": SECRET_DEFAULT},
                        "SMTP_HOST": {"type": "string", "defval": "localhost"},
                    }
                },
            ),
        ):
            doc = manifest(name=name, uuid=None, topics=tags, **extra)
            doc.pop("uuid")
            ids[name] = manifests.import_manifest(session, doc, actor=SYSTEM).application_id
        ids["fio"] = manifests.import_manifest(session, FIO, actor=SYSTEM).application_id
    return ids


def app_count(world) -> int:
    with world.session() as session:
        return count(session, models.Application)


# -- the catalogue --------------------------------------------------------------------------


def test_tags_narrow_the_catalogue_to_applications_with_every_chosen_tag(world, shelf):
    client = signed_in(world, "bob")
    everything = client.get("/applications").text
    assert {"Bank Sync", "Bank Report", "Mailer", "Probe", "Fio Statement Downloader"} <= set(
        texts_of(everything, "app-link")
    )
    assert texts_of(client.get("/applications?tag=bank").text, "app-link") == [
        "Bank Report",
        "Bank Sync",
    ]
    both = client.get("/applications?tag=bank&tag=report").text
    assert texts_of(both, "app-link") == ["Bank Report"]
    assert 'data-tag="report"' in both and 'aria-current="true"' in both
    assert texts_of(client.get("/applications?tag=bank&tag=mail").text, "app-link") == []


def test_search_reads_name_description_uuid_and_executable_and_keeps_the_tags(world, shelf):
    client = signed_in(world, "amy")
    assert texts_of(client.get("/applications?q=bankrep").text, "app-link") == ["Bank Report"]
    assert texts_of(client.get("/applications?q=6f1c1a4e-0000").text, "app-link") == ["Probe"]
    assert texts_of(client.get("/applications?q=prints+what").text, "app-link") == [
        "Bank Report",
        "Bank Sync",
        "Mailer",
        "Probe",
    ]
    narrowed = client.get("/applications?q=prints&tag=sync").text
    assert texts_of(narrowed, "app-link") == ["Bank Sync"]
    assert 'name="tag" value="sync"' in narrowed, "the search form keeps the chosen tag"


def test_a_search_from_htmx_answers_only_the_results_block(world, shelf):
    client = signed_in(world, "alice")
    partial = client.get("/applications?q=mailer", headers={"HX-Request": "true"}).text
    assert partial.lstrip().startswith("<div") and "<html" not in partial
    assert texts_of(partial, "app-link") == ["Mailer"]


def test_names_and_descriptions_follow_the_pages_language(world, shelf):
    client = signed_in(world, "alice")
    czech = client.get("/applications?q=fio", headers=CZECH).text
    assert texts_of(czech, "app-link") == ["Stahovač Fio výpisů"]
    assert '<html lang="cs"' in czech and "Nalezené aplikace: 1" in czech
    english = client.get("/applications?q=fio", headers={"Accept-Language": "en"}).text
    assert texts_of(english, "app-link") == ["Fio Statement Downloader"]
    page = client.get(f"/applications/{shelf['fio']}", headers=CZECH).text
    assert texts_of(page, "app-name") == ["Stahovač Fio výpisů"]
    assert "FioBank" in texts_of(page, "requirement") or 'data-code="FioBank"' in page


def test_the_catalogue_pages_through_many_applications(world):
    with world.session() as session:
        for n in range(30):
            doc = manifest(name=f"Bulk {n:02}", topics=["bulk"])
            doc.pop("uuid")
            manifests.import_manifest(session, doc, actor=SYSTEM)
    client = signed_in(world, "alice")
    first = client.get("/applications?tag=bulk").text
    assert len(texts_of(first, "app-link")) == 24
    assert 'data-testid="page-next"' in first
    second = client.get("/applications?tag=bulk&offset=24").text
    assert texts_of(second, "app-link") == [f"Bulk {n:02}" for n in range(24, 30)]


# -- an application's page ------------------------------------------------------------------


def test_an_applications_page_shows_its_fields_codes_and_the_companies_using_it(world):
    client = signed_in(world, "alice")
    page = client.get(f"/applications/{world.ids['application']}").text
    assert texts_of(page, "app-uuid") == ["6f1c1a4e-0000-4000-8000-00000000a001"]
    assert texts_of(page, "app-executable") == ["/usr/bin/env"]
    rows = re.findall(r'data-testid="field-row" data-field="([^"]+)"', page)
    assert rows == ["REPORT_NAME", "API_PASSWORD"]
    assert 'data-code="0"' in page and "done" in page
    # alice sees her company only, with its one run template
    usage = re.findall(r'data-testid="usage-row" data-company-id="(\d+)"', page)
    assert usage == [str(world.ids["company_a"])]
    assert texts_of(page, "usage-rt-count") == ["1"]
    assert 'data-testid="delete"' not in page and 'data-testid="export"' in page
    assert (
        len(
            re.findall(
                'data-testid="usage-row"',
                signed_in(world, "root").get(f"/applications/{world.ids['application']}").text,
            )
        )
        == 2
    )


def test_no_page_of_the_area_shows_a_secret_default(world, shelf):
    mailer = shelf["Mailer"]
    client = signed_in(world, "root")
    pages = [
        "/applications",
        "/applications?q=mailer",
        f"/applications/{mailer}",
        f"/applications/{mailer}/delete",
        f"/companies/{world.ids['company_a']}/applications",
    ]
    for url in pages:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "PLANTED-" not in answer.text, url
    page = client.get(f"/applications/{mailer}").text
    defaults = dict(
        re.findall(
            r'data-field="([^"]+)">.*?data-testid="field-default">(.*?)</td>', page, flags=re.S
        )
    )
    assert "(hidden)" in defaults["SMTP_PASSWORD"]
    assert "localhost" in defaults["SMTP_HOST"]


def test_an_unknown_application_is_a_404_page(world):
    answer = signed_in(world, "alice").get("/applications/999999")
    assert answer.status_code == 404 and 'data-testid="error-page"' in answer.text


# -- export ---------------------------------------------------------------------------------


def test_export_downloads_the_cores_export_and_imports_back_as_the_same_application(world, shelf):
    client = signed_in(world, "bob")
    answer = client.get(f"/applications/{shelf['fio']}/export")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename=Fio_Statement_Downloader.multiflexi.app.json"
    )
    with world.session() as session:
        assert json.loads(answer.data) == manifests.export_manifest(session, shelf["fio"])
        again = manifests.import_manifest(session, answer.data, actor=SYSTEM)
    assert (again.application_id, again.created) == (shelf["fio"], False)


# -- import ---------------------------------------------------------------------------------


def test_a_global_administrator_imports_by_upload_or_paste_and_sees_the_warnings(world):
    client = signed_in(world, "root")
    before = app_count(world)
    doc = manifest(name="Pasted", uuid="6f1c1a4e-0000-4000-8000-00000000b001", colour="red")
    answer = post(client, "/applications/import", manifest_text=json.dumps(doc))
    assert answer.status_code == 303
    target = answer.headers["Location"]
    page = client.get(target).text
    assert texts_of(page, "app-name") == ["Pasted"]
    assert "colour: not part of the manifest format, ignored" in page
    assert "flash-warning" in page
    assert app_count(world) == before + 1

    import io

    upload = (io.BytesIO(FIO.read_bytes()), FIO.name)
    answer = client.post(
        "/applications/import",
        data={"csrf_token": client.token, "manifest_file": upload},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    assert "Fio Statement Downloader" in client.get(answer.headers["Location"]).text
    # the same uuid again updates it
    changed = {**doc, "version": "9.9.9"}
    answer = post(client, "/applications/import", manifest_text=json.dumps(changed))
    assert answer.headers["Location"] == target
    assert "updated" in client.get(target).text
    assert app_count(world) == before + 2


def test_an_invalid_manifest_lists_its_problems_by_field_and_writes_nothing(world):
    client = signed_in(world, "root")
    before = world.dump()
    bad = {
        "name": "Broken",
        "description": "d",
        "environment": {"MODE": {"type": "nonsense", "required": "maybe"}},
    }
    answer = post(client, "/applications/import", manifest_text=json.dumps(bad))
    assert answer.status_code == 422
    fields = re.findall(r'data-testid="import-problem" data-field="([^"]+)"', answer.text)
    assert fields == ["environment.MODE.required", "environment.MODE.type"]
    assert "executable" in answer.text, "a problem of the whole document is listed too"
    assert "&#34;Broken&#34;" in answer.text or "Broken" in answer.text, "the paste is kept"
    syntax = post(client, "/applications/import", manifest_text="{not json")
    assert syntax.status_code == 422 and "line 1, column 2" in syntax.text
    empty = post(client, "/applications/import", manifest_text="  ")
    assert empty.status_code == 422 and 'data-testid="import-error"' in empty.text
    assert world.dump() == before


@pytest.mark.parametrize("who", ["alice", "amy", "bob", "nobody"])
def test_only_a_global_administrator_imports_or_deletes(world, who):
    client = signed_in(world, who)
    app_id = world.ids["application"]
    assert client.get("/applications/import").status_code == 403
    assert client.get(f"/applications/{app_id}/delete").status_code == 403
    before = world.dump()
    doc = manifest(name="Sneaky")
    assert post(client, "/applications/import", manifest_text=json.dumps(doc)).status_code == 403
    assert post(client, f"/applications/{app_id}/delete").status_code == 403
    assert world.dump() == before
    catalogue = client.get("/applications").text
    assert 'data-testid="import-link"' not in catalogue


def test_delete_says_what_goes_with_it_then_deletes(world):
    client = signed_in(world, "root")
    app_id = world.ids["application"]
    confirm = client.get(f"/applications/{app_id}/delete").text
    counts = dict(re.findall(r'data-testid="delete-([a-z-]+)" data-count="(\d+)"', confirm))
    assert counts == {"companies": "2", "run-templates": "2", "jobs": "4"}
    assert "Company alpha" in confirm and "Company beta" in confirm
    answer = post(client, f"/applications/{app_id}/delete")
    assert answer.status_code == 303 and answer.headers["Location"] == "/applications"
    assert client.get(f"/applications/{app_id}").status_code == 404
    with world.session() as session:
        assert count(session, models.RunTemplate) == 0


# -- a company's catalogue ------------------------------------------------------------------


def company_page(client, company_id: int, **headers):
    return client.get(f"/companies/{company_id}/applications", headers=headers)


def test_the_company_catalogue_marks_the_assigned_applications(world, shelf):
    client = signed_in(world, "bob")  # a viewer of company B
    page = company_page(client, world.ids["company_b"]).text
    marks = dict(re.findall(r'data-app-id="(\d+)" data-assigned="(yes|no)"', page))
    assert marks[str(world.ids["application"])] == "yes"
    assert marks[str(shelf["Mailer"])] == "no"
    assert 'data-testid="assign"' not in page and 'data-testid="unassign"' not in page


@pytest.mark.parametrize("who", ["nobody", "bob"])
def test_a_company_without_a_role_answers_404_to_every_page_and_action(world, who):
    client = signed_in(world, who)
    company, app_id = world.ids["company_a"], world.ids["application"]
    before = world.dump()
    assert company_page(client, company).status_code == 404
    base = f"/companies/{company}/applications/{app_id}"
    assert client.get(f"{base}/unassign").status_code == 404
    assert client.get(base, headers={"HX-Request": "true"}).status_code == 404
    assert post(client, f"{base}/assign").status_code == 404
    assert post(client, f"{base}/unassign").status_code == 404
    assert world.dump() == before


def test_a_manager_or_viewer_may_not_assign_only_the_company_administrator(world, shelf):
    mailer = shelf["Mailer"]
    amy, bob = signed_in(world, "amy"), signed_in(world, "bob")
    before = world.dump()
    page = company_page(amy, world.ids["company_a"]).text
    assert 'data-testid="assign"' not in page
    assert (
        post(amy, f"/companies/{world.ids['company_a']}/applications/{mailer}/assign").status_code
        == 403
    )
    assert (
        post(bob, f"/companies/{world.ids['company_b']}/applications/{mailer}/assign").status_code
        == 403
    )
    assert world.dump() == before


def test_assign_and_unassign_without_javascript_post_and_come_back(world, shelf):
    alice = signed_in(world, "alice")
    company, mailer = world.ids["company_a"], shelf["Mailer"]
    back = f"/companies/{company}/applications?q=mail"
    answer = post(alice, f"/companies/{company}/applications/{mailer}/assign", next=back)
    assert (answer.status_code, answer.headers["Location"]) == (303, back)
    with world.session() as session:
        assert companies.is_assigned(session, company, mailer)
    confirm = alice.get(f"/companies/{company}/applications/{mailer}/unassign").text
    assert texts_of(confirm, "unassign-rt") == ["Mailer"], "it names the run template that goes"
    answer = post(alice, f"/companies/{company}/applications/{mailer}/unassign", next="//evil")
    assert answer.headers["Location"] == f"/companies/{company}/applications"
    with world.session() as session:
        assert not companies.is_assigned(session, company, mailer)


def test_assign_and_unassign_through_htmx_answer_the_card(world, shelf):
    alice = signed_in(world, "alice")
    company, mailer = world.ids["company_a"], shelf["Mailer"]
    htmx = {"HX-Request": "true"}
    base = f"/companies/{company}/applications/{mailer}"
    card = post(alice, f"{base}/assign", headers=htmx).text
    assert card.lstrip().startswith("<article") and 'data-assigned="yes"' in card
    assert 'data-testid="created-rt"' in card
    confirm = alice.get(f"{base}/unassign", headers=htmx).text
    assert 'data-testid="unassign-confirm"' in confirm and "(1)" in confirm
    card = post(alice, f"{base}/unassign", headers=htmx).text
    assert 'data-assigned="no"' in card and 'data-testid="unassign-result"' in card


def test_the_whole_catalogue_links_to_the_company_catalogues_one_may_see(world):
    page = signed_in(world, "amy").get("/applications").text
    assert re.findall(
        r'href="/companies/(\d+)/applications" data-testid="company-catalogue"', page
    ) == [str(world.ids["company_a"])]


# -- in a real browser ----------------------------------------------------------------------


def _check(browser, name: str, ready: str, status: int = 200) -> None:
    check_page(browser, f"applications-{name}", ready, status)


def test_the_pages_in_a_browser_have_no_console_error_nor_axe_violation(browser, world, shelf):
    browser.sign_in("root", PASSWORD)
    for name, path, ready in (
        ("catalogue", "/applications", "app-card"),
        ("application", f"/applications/{shelf['Mailer']}", "fields"),
        ("application-cs", f"/applications/{shelf['fio']}", "requirements"),
        ("import", "/applications/import", "import-form"),
        ("company", f"/companies/{world.ids['company_a']}/applications", "assign"),
        ("delete", f"/applications/{shelf['Mailer']}/delete", "delete-submit"),
        (
            "unassign",
            f"/companies/{world.ids['company_a']}/applications/{world.ids['application']}/unassign",
            "unassign-submit",
        ),
    ):
        browser.open(path)
        _check(browser, name, ready)


def test_an_invalid_manifest_upload_lists_its_errors_and_writes_nothing(browser, world, tmp_path):
    bad = tmp_path / "broken.multiflexi.app.json"
    bad.write_text(
        json.dumps(
            {
                "name": "Broken",
                "description": "d",
                "executable": "/bin/true",
                "environment": {"MODE": {"type": "nonsense"}},
            }
        )
    )
    browser.sign_in("root", PASSWORD)
    browser.open("/applications/import")
    before = world.dump()
    browser.find("field-manifest_file").send_keys(str(bad))
    browser.submit("import-submit")
    browser.wait(lambda: browser.has("import-problems"), "the problems")
    problems = browser.find_all('[data-testid="import-problem"]')
    assert [p.get_attribute("data-field") for p in problems] == ["environment.MODE.type"]
    assert "nonsense" in problems[0].text
    assert world.dump() == before
    _check(browser, "import-errors", "import-problems", 422)


def test_a_valid_upload_lands_on_the_applications_page(browser, world):
    browser.sign_in("root", PASSWORD)
    browser.open("/applications/import")
    browser.find("field-manifest_file").send_keys(str(FIO))
    browser.submit("import-submit")
    browser.wait(lambda: browser.path.startswith("/applications/"), "the application's page")
    assert browser.find("app-name").text == "Fio Statement Downloader"
    assert browser.has("flash")


def test_search_tags_assign_and_unassign_happen_in_place(browser, world, shelf):
    company = world.ids["company_a"]
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/companies/{company}/applications")
    browser.driver.execute_script("window.stillHere = true")

    def cards() -> int:
        return len(browser.find_all('[data-testid="app-card"]'))

    browser.find("app-search").send_keys("prints")
    browser.wait(lambda: "q=prints" in browser.path, "the search in the URL")
    browser.wait(lambda: cards() == 4, "the four that print")
    browser.find_all('[data-testid="tag-chip"][data-tag="bank"]')[0].click()
    browser.wait(lambda: cards() == 2, "the two bank ones")
    browser.find_all('[data-testid="tag-chip"][data-tag="report"]')[0].click()
    browser.wait(lambda: cards() == 1, "the bank report one")
    assert "tag=bank" in browser.path and "tag=report" in browser.path
    assert "q=prints" in browser.path
    browser.screenshot("applications-filtered")
    card = f"#app-card-{shelf['Bank Report']}"
    browser.find_all(f'{card} [data-testid="assign"]')[0].click()
    browser.wait(lambda: browser.find_all(f'{card} [data-testid="assigned-mark"]'), "the mark")
    browser.find_all(f'{card} [data-testid="unassign"]')[0].click()
    browser.wait(lambda: browser.find_all(f'{card} [data-testid="unassign-confirm"]'), "confirm")
    browser.screenshot("applications-unassign-in-place", at=f"app-card-{shelf['Bank Report']}")
    browser.find_all(f'{card} [data-testid="unassign-submit"]')[0].click()
    browser.wait(lambda: browser.find_all(f'{card} [data-testid="unassigned-mark"]'), "unmarked")
    assert browser.driver.execute_script("return window.stillHere") is True, "no page load"
    assert browser.console_errors() == []
    with world.session() as session:
        assert not companies.is_assigned(session, company, shelf["Bank Report"])
