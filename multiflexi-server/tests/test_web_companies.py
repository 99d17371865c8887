"""The web UI's company pages: the list, a company's page, create and edit with a logo,
delete after a preview, environment variables, members; access by role; no secret."""

from __future__ import annotations

import base64
import io
import re
from html import unescape

import pytest
from helpers import PASSWORD, SECRETS, check_page, signed_in

from multiflexi.core import audit, companies, models, users

SYSTEM = audit.Actor.system("tests")
#: a 1x1 PNG and a small SVG, as a person would upload them
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    b'<circle cx="5" cy="5" r="4" fill="#2157d4"/></svg>'
)
PEOPLE = ("root", "alice", "amy", "bob", "brenda", "nobody")


def post(client, path: str, files: dict | None = None, **data):
    form = {"csrf_token": client.token, **data}
    for name, (content, filename) in (files or {}).items():
        form[name] = (io.BytesIO(content), filename)
    return client.post(path, data=form, content_type="multipart/form-data")


def text_of(page) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))).split())


def main_of(page) -> str:
    return page.get_data(as_text=True).split("<main", 1)[1]


def paths(world, key: str = "a") -> dict[str, str]:
    base = f"/companies/{world.ids[f'company_{key}']}"
    return {
        "detail": base,
        "edit": f"{base}/edit",
        "delete": f"{base}/delete",
        "variables": f"{base}/variables",
        "members": f"{base}/members",
    }


def company(world, key: str = "a") -> models.Company:
    with world.session() as session:
        found = companies.get(session, world.ids[f"company_{key}"])
        session.expunge(found)
        return found


def roles_in(world, key: str = "a") -> dict[str, str]:
    with world.session() as session:
        rows = users.members(session, world.ids[f"company_{key}"]).items
        return {users.get(session, m.user_id).login: m.role for m in rows}


# -- the list ---------------------------------------------------------------------------------


def test_a_global_admin_lists_every_company_with_its_counts_and_may_create_one(world):
    page = signed_in(world, "root").get("/companies")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="company-row"') == 2
    assert 'data-testid="new-company"' in html
    row = html.split(f'data-company-id="{world.ids["company_a"]}"', 1)[1].split("</tr>", 1)[0]
    counts = dict(re.findall(r'data-testid="count-(\w+)"[^>]*>(\d+)<', row))
    assert counts == {"runtemplates": "1", "applications": "1", "members": "2"}
    assert "alpha" in row and "enabled" in row


@pytest.mark.parametrize(
    ("who", "seen"),
    [("alice", {"Company alpha"}), ("amy", {"Company alpha"}), ("bob", {"Company beta"})],
)
def test_others_list_only_their_companies_and_create_none(world, who, seen):
    client = signed_in(world, who)
    html = client.get("/companies").get_data(as_text=True)
    names = set(re.findall(r'data-testid="company-link">([^<]+)<', html))
    assert names == seen
    assert 'data-testid="new-company"' not in html
    assert client.get("/companies/new").status_code == 403


def test_a_user_without_any_role_lists_nothing(world):
    page = signed_in(world, "nobody").get("/companies")
    assert page.status_code == 200
    assert 'data-testid="company-row"' not in page.get_data(as_text=True)
    assert 'data-testid="empty"' in page.get_data(as_text=True)


def test_the_list_pages_on_the_server(world):
    with world.session() as session:
        for number in range(60):
            companies.create(session, name=f"Tenant {number:02}", actor=SYSTEM)
    client = signed_in(world, "root")
    first = client.get("/companies").get_data(as_text=True)
    assert first.count('data-testid="company-row"') == 50
    assert 'data-testid="page-next"' in first
    second = client.get("/companies?offset=50").get_data(as_text=True)
    assert second.count('data-testid="company-row"') == 12


# -- every page per role ---------------------------------------------------------------------

#: who gets what on each page of company A (bob is a viewer of B; nobody has no role)
EXPECTED = {
    "root": dict(detail=200, edit=200, delete=200, variables=200, members=200),
    "alice": dict(detail=200, edit=200, delete=403, variables=200, members=200),
    "amy": dict(detail=200, edit=403, delete=403, variables=200, members=200),
    "bob": dict(detail=404, edit=404, delete=404, variables=404, members=404),
    "nobody": dict(detail=404, edit=404, delete=404, variables=404, members=404),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_each_page_of_company_a_answers_each_role_as_its_role_allows(world, who):
    client = signed_in(world, who)
    answers = {name: client.get(path).status_code for name, path in paths(world).items()}
    assert answers == EXPECTED[who]


def test_a_company_page_shows_its_details_and_links_to_its_areas(world):
    page = signed_in(world, "alice").get(paths(world)["detail"])
    html = page.get_data(as_text=True)
    assert 'data-testid="company-name">Company alpha<' in html
    assert f'href="/run-templates?company={world.ids["company_a"]}"' in html
    assert f'href="/jobs?company={world.ids["company_a"]}"' in html
    assert 'data-testid="edit-company"' in html  # alice is its admin
    assert 'data-testid="delete-company"' not in html  # only a global admin deletes
    jobs = re.findall(r'data-testid="job-row" data-job-id="(\d+)"', html)
    assert {int(j) for j in jobs} == {world.ids["job_a"], world.ids["done_a"]}
    assert 'data-testid="holds-runtemplates">1<' in html


def test_the_company_nav_opens_that_companys_credentials_only(world):
    client = signed_in(world, "root")  # sees the credentials of both companies
    html = client.get(paths(world)["detail"]).get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-testid="nav-credentials"', html)
    assert link is not None
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    shown = re.findall(r'data-testid="credential-row" data-credential-id="(\d+)"', listed)
    assert shown == [str(world.ids["credential_a"])]


@pytest.mark.parametrize("who", ["amy", "bob"])
def test_a_manager_and_a_viewer_see_no_edit_controls_on_the_company_pages(world, who):
    key = "a" if who == "amy" else "b"
    client = signed_in(world, who)
    for name, path in paths(world, key).items():
        if name in ("edit", "delete"):
            continue
        page = client.get(path)
        assert page.status_code == 200
        main = main_of(page)
        assert "<form" not in main, (who, name)
        assert 'data-testid="edit-company"' not in main


# -- refused changes change nothing ------------------------------------------------------------


def every_post(world, key: str) -> list[tuple[str, dict]]:
    base = paths(world, key)
    bob = world.ids["bob"]
    member = world.ids["brenda" if key == "b" else "alice"]
    return [
        (base["edit"], {"name": "Renamed", "slug": "renamed"}),
        (base["delete"], {}),
        (base["variables"], {"name": "NEW_VAR", "value": "x"}),
        (f"{base['variables']}/COMPANY_PLAIN/remove", {}),
        (base["members"], {"login": "nobody", "role": "admin"}),
        (f"{base['members']}/{member}", {"role": "viewer"}),
        (f"{base['members']}/{member}", {"op": "remove"}),
        (f"{base['members']}/{bob}", {"op": "remove"}),
    ]


@pytest.mark.parametrize(
    ("who", "key", "refusal"),
    [("bob", "b", 403), ("amy", "a", 403), ("bob", "a", 404), ("nobody", "a", 404)],
)
def test_a_post_the_role_does_not_allow_is_refused_and_changes_nothing(world, who, key, refusal):
    client = signed_in(world, who)
    before = world.dump()
    answers = {
        (path, str(data)): post(client, path, **data).status_code
        for path, data in every_post(world, key)
    }
    assert set(answers.values()) == {refusal}, answers
    assert post(client, "/companies/new", name="Sneaky").status_code == 403
    assert world.dump() == before


def test_a_post_without_the_csrf_token_is_refused(world):
    client = signed_in(world, "root")
    before = world.dump()
    answer = client.post(paths(world)["edit"], data={"name": "Renamed"})
    assert answer.status_code == 400
    assert world.dump() == before


# -- create and edit --------------------------------------------------------------------------


def test_a_global_admin_creates_a_company_with_a_logo(world):
    client = signed_in(world, "root")
    form = client.get("/companies/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    answer = post(
        client,
        "/companies/new",
        files={"logo": (PNG, "logo.png")},
        name="Účetní s.r.o.",
        slug="",
        ic="12345678",
        email="office@ucetni.example",
        enabled="on",
    )
    assert answer.status_code == 303
    with world.session() as session:
        made = companies.get(session, "ucetni_s_r_o")
        assert made.ic == "12345678"
        assert made.logo == "data:image/png;base64," + base64.b64encode(PNG).decode()
    page = client.get(answer.headers["Location"])
    assert 'data-testid="flash"' in page.get_data(as_text=True)
    assert 'src="data:image/png;base64,' in page.get_data(as_text=True)
    listed = client.get("/companies").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in listed


def test_the_slug_the_form_suggests_is_the_cores(world):
    client = signed_in(world, "root")
    answer = client.get("/companies/slug?name=Žluťoučký kůň a.s.")
    assert answer.get_data(as_text=True) == companies.slugify("Žluťoučký kůň a.s.")


@pytest.mark.parametrize(
    ("data", "files", "field", "status"),
    [
        ({"name": "", "slug": "ok"}, None, "name", 422),
        ({"name": "Bad", "slug": "Not A Slug"}, None, "slug", 422),
        ({"name": "Bad", "email": "not-an-address"}, None, "email", 422),
        ({"name": "Taken", "slug": "alpha"}, None, "slug", 409),
        ({"name": "Bad logo"}, {"logo": (b"MZ\x90\x00 not an image", "logo.png")}, "logo", 422),
        ({"name": "Big logo"}, {"logo": (PNG + b"\0" * 70_000, "big.png")}, "logo", 422),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_creates_nothing(world, data, files, field, status):
    client = signed_in(world, "root")
    before = world.dump()
    answer = post(client, "/companies/new", files=files, **data)
    assert answer.status_code == status
    html = answer.get_data(as_text=True)
    assert f'data-testid="error-{field}"' in html
    assert 'aria-invalid="true"' in html
    if data.get("name"):
        assert f'value="{data["name"]}"' in html  # what was typed stays in the form
    assert world.dump() == before


def test_a_company_admin_edits_the_company_and_changes_its_logo(world):
    client = signed_in(world, "alice")
    edit = paths(world)["edit"]
    answer = post(
        client,
        edit,
        files={"logo": (SVG, "logo.svg")},
        name="Alpha Ltd",
        slug="alpha",
        ic="87654321",
        email="it@alpha.example",
        enabled="on",
    )
    assert answer.status_code == 303
    changed = company(world)
    assert (changed.name, changed.ic, changed.email) == (
        "Alpha Ltd",
        "87654321",
        "it@alpha.example",
    )
    assert changed.logo.startswith("data:image/svg+xml;base64,")
    html = client.get(paths(world)["detail"]).get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html
    # blank slug keeps it; the box removes the logo; an unticked box disables the company
    answer = post(client, edit, name="Alpha Ltd", slug="", remove_logo="on")
    assert answer.status_code == 303
    changed = company(world)
    assert (changed.slug, changed.logo, changed.enabled) == ("alpha", None, False)


def test_an_edit_refused_shows_the_problem_and_changes_nothing(world):
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(client, paths(world)["edit"], name="Alpha", slug="beta")
    assert answer.status_code == 409
    assert "beta" in text_of(answer) and 'data-testid="error-slug"' in answer.get_data(as_text=True)
    answer = post(client, paths(world)["edit"], name="Alpha", email="nope")
    assert answer.status_code == 422
    assert 'data-testid="error-email"' in answer.get_data(as_text=True)
    assert world.dump() == before


# -- delete -----------------------------------------------------------------------------------


def test_the_delete_page_lists_what_goes_and_then_the_company_goes(world):
    client = signed_in(world, "root")
    page = client.get(paths(world)["delete"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    goes = dict(re.findall(r'data-testid="goes-(\w+)">([^<:·]+)', html))
    assert goes["runtemplates"].strip() == "1 run template"
    assert goes["jobs"].strip().startswith("2 jobs")
    assert goes["credentials"].strip() == "1 credential"
    assert goes["variables"].strip() == "2 environment variables"
    assert goes["members"].strip().startswith("2 users")
    assert goes["applications"].strip().startswith("1 application assignment")
    assert re.findall(r'data-testid="goes-runtemplate">([^<]+)<', html) == ["probe alpha"]
    answer = post(client, paths(world)["delete"])
    assert answer.status_code == 303
    assert client.get(paths(world)["detail"]).status_code == 404
    with world.session() as session:
        assert session.get(models.RunTemplate, world.ids["rt_a"]) is None
        assert session.get(models.Company, world.ids["company_b"]) is not None


# -- environment variables --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["root", "alice", "amy"])
def test_a_secret_variable_is_never_in_the_page(world, who):
    page = signed_in(world, who).get(paths(world)["variables"])
    html = page.get_data(as_text=True)
    assert "COMPANY_SECRET" in html and "COMPANY_PLAIN" in html
    assert "PLANTED-" not in html
    row = html.split('data-name="COMPANY_SECRET"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="variable-secret"' in row
    if who != "amy":
        assert 'type="password"' in row and 'value=""' in row


def test_an_admin_adds_changes_and_removes_variables(world):
    client = signed_in(world, "alice")
    url = paths(world)["variables"]
    assert post(client, url, name="API_URL", value="https://erp.example").status_code == 303
    assert (
        post(client, url, name="SIGNING", value="PLANTED-new-secret", secret="on").status_code
        == 303
    )
    html = client.get(url).get_data(as_text=True)
    assert 'value="https://erp.example"' in html
    assert "PLANTED-" not in html
    # a blank value keeps a secret; a new one replaces it
    assert post(client, url, name="SIGNING", value="").status_code == 303
    with world.session() as session:
        values = companies.variable_values(session, world.ids["company_a"])
    assert values["SIGNING"] == ("PLANTED-new-secret", True)
    assert values["API_URL"] == ("https://erp.example", False)
    assert post(client, url, name="API_URL", value="https://erp2.example").status_code == 303
    assert post(client, f"{url}/API_URL/remove").status_code == 303
    with world.session() as session:
        values = companies.variable_values(session, world.ids["company_a"])
    assert "API_URL" not in values and values["SIGNING"][0] == "PLANTED-new-secret"


def test_a_bad_variable_name_is_shown_beside_it_and_nothing_is_set(world):
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(client, paths(world)["variables"], name="NOT A NAME", value="x")
    assert answer.status_code == 422
    assert 'data-testid="error-name"' in answer.get_data(as_text=True)
    answer = post(client, paths(world)["variables"], name="BIG", value="x" * 1_100_000)
    assert answer.status_code in (413, 422)
    assert world.dump() == before


# -- members ----------------------------------------------------------------------------------


def test_the_members_page_lists_the_users_and_their_roles(world):
    html = signed_in(world, "amy").get(paths(world)["members"]).get_data(as_text=True)
    rows = re.findall(r'data-login="([^"]+)"', html)
    assert rows == ["alice", "amy"]
    assert re.findall(r'data-testid="member-role">([^<]+)<', html) == ["administrator", "manager"]


def test_a_company_admin_gives_changes_and_takes_away_a_role(world):
    alice, bob = signed_in(world, "alice"), signed_in(world, "bob")
    url = paths(world)["members"]
    # a global administrator chooses from the accounts without a role there
    form = signed_in(world, "root").get(url).get_data(as_text=True)
    offered = set(
        re.findall(
            r'<option value="([^"]+)"', form.split('id="f-login"', 1)[1].split("</select>", 1)[0]
        )
    )
    assert {"bob", "brenda", "nobody", "root"} <= offered and "amy" not in offered
    assert bob.get(paths(world)["detail"]).status_code == 404
    assert post(alice, url, login="bob", role="manager").status_code == 303
    assert roles_in(world)["bob"] == "manager"
    assert bob.get(paths(world)["detail"]).status_code == 200
    member = f"{url}/{world.ids['bob']}"
    assert post(alice, member, role="viewer").status_code == 303
    assert roles_in(world)["bob"] == "viewer"
    assert post(alice, member, op="remove").status_code == 303
    assert "bob" not in roles_in(world)
    assert bob.get(paths(world)["detail"]).status_code == 404


def test_only_a_global_admin_is_offered_the_list_of_accounts_to_give_a_role(world):
    # brenda has a role in company B only: company A's administrator does not learn of her
    members = paths(world)["members"]
    assert 'value="brenda"' in signed_in(world, "root").get(members).get_data(as_text=True)
    page = signed_in(world, "alice").get(members).get_data(as_text=True)
    assert "brenda" not in page
    assert 'data-testid="grant-form"' in page


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"login": "", "role": "viewer"}, {"login"}),
        ({"login": "ghost", "role": "viewer"}, {"login"}),
        ({"login": "bob", "role": "owner"}, {"role"}),
    ],
)
def test_a_bad_grant_is_shown_beside_its_field_and_changes_nothing(world, data, fields):
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(client, paths(world)["members"], **data)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert {f for f in ("login", "role") if f'data-testid="error-{f}"' in html} == fields
    assert world.dump() == before


def test_a_bad_role_change_is_shown_beside_the_member_and_changes_nothing(world):
    client = signed_in(world, "alice")
    before = world.dump()
    answer = post(client, f"{paths(world)['members']}/{world.ids['amy']}", role="owner")
    assert answer.status_code == 422
    assert f'data-testid="error-role-{world.ids["amy"]}"' in answer.get_data(as_text=True)
    assert world.dump() == before


def test_a_company_admin_is_not_offered_and_not_allowed_to_lower_their_own_role(world):
    alice = signed_in(world, "alice")
    url = paths(world)["members"]
    me = world.ids["alice"]
    page = alice.get(url).get_data(as_text=True)
    assert 'data-testid="member-role-alice"' not in page
    assert 'data-testid="member-remove-alice"' not in page
    assert 'data-testid="own-role-kept"' in page
    assert 'data-testid="member-role-amy"' in page and 'data-testid="member-remove-amy"' in page
    before = world.dump()
    for data in ({"role": "manager"}, {"role": "viewer"}, {"op": "remove"}):
        answer = post(alice, f"{url}/{me}", **data)
        assert answer.status_code == 422, data
        html = answer.get_data(as_text=True)
        assert f'data-testid="error-role-{me}"' in html
        assert "ask another administrator of the company or a global administrator" in html
    answer = post(alice, url, login="alice", role="viewer")
    assert answer.status_code == 422 and 'data-testid="error-role"' in answer.get_data(as_text=True)
    assert world.dump() == before
    assert roles_in(world)["alice"] == "admin"
    # a global administrator is offered every control and changes anyone's role
    root = signed_in(world, "root")
    assert 'data-testid="member-remove-alice"' in root.get(url).get_data(as_text=True)
    assert post(root, f"{url}/{me}", role="manager").status_code == 303
    assert roles_in(world)["alice"] == "manager"


# -- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_no_planted_secret_is_in_any_company_page(world, who):
    client = signed_in(world, who)
    pages = ["/companies", "/companies/new"]
    for key in ("a", "b"):
        pages += paths(world, key).values()
    for path in pages:
        page = client.get(path)
        assert page.status_code in (200, 403, 404)
        body = page.get_data(as_text=True)
        assert not any(secret in body for secret in SECRETS.values() if secret != PASSWORD), path


# -- in a real browser ----------------------------------------------------------------------------


def check(browser, name: str, ready: str) -> None:
    check_page(browser, f"companies-{name}", ready)


def test_every_company_page_in_a_browser(browser, world):
    with world.session() as session:
        companies.update(
            session,
            world.ids["company_a"],
            {
                "logo": "data:image/svg+xml;base64," + base64.b64encode(SVG).decode(),
                "ic": "12345678",
            },
            actor=SYSTEM,
        )
    browser.sign_in("root", PASSWORD)
    base = paths(world)
    for name, path, ready in (
        ("list", "/companies", "company-row"),
        ("company", base["detail"], "company-details"),
        ("new", "/companies/new", "company-form"),
        ("edit", base["edit"], "company-form"),
        ("delete", base["delete"], "delete-submit"),
        ("variables", base["variables"], "variable-row"),
        ("members", base["members"], "member-row"),
    ):
        browser.open(path)
        check(browser, name, ready)


def test_the_new_company_form_suggests_the_slug_in_a_browser(browser, world):
    browser.sign_in("root", PASSWORD)
    browser.open("/companies/new")
    browser.find("field-name").send_keys("Nová Firma a.s.")
    browser.wait(
        lambda: browser.find("field-slug").get_attribute("value") == "nova_firma_a_s", "slug"
    )
    browser.submit("save-company")
    browser.wait(lambda: browser.has("company-details"), "the new company's page")
    assert "nova_firma_a_s" in browser.find("company-slug").text
    assert browser.console_errors() == []


def test_a_role_change_takes_effect_in_a_browser(browser, world):
    """alice makes amy a viewer: amy's run template page has no edit control any more and a
    change she sends is refused; alice gives bob a role in A, then takes it away."""
    rt = f"/run-templates/{world.ids['rt_a']}"
    amy = signed_in(world, "amy")
    assert 'data-testid="launch"' in amy.get(rt).get_data(as_text=True)

    browser.sign_in("alice", PASSWORD)
    browser.open(paths(world)["members"])
    check(browser, "members-admin", "grant-form")
    select = browser.find("member-role-amy")
    select.find_element("css selector", 'option[value="viewer"]').click()
    browser.submit("member-save-amy")
    assert "amy" in browser.find("flash").text
    assert roles_in(world)["amy"] == "viewer"

    page = amy.get(rt).get_data(as_text=True)
    assert 'data-testid="launch"' not in page and "<form" not in main_of(amy.get(rt))
    before = world.dump()
    refused = post(amy, f"{rt}/settings", name="renamed by amy")
    assert refused.status_code == 403
    assert world.dump() == before

    # a company's administrator names the login: no list of other tenants' accounts
    assert browser.find("field-login").tag_name == "input"
    browser.fill({"login": "bob"})
    browser.find("field-role").find_element("css selector", 'option[value="manager"]').click()
    browser.submit("grant-submit")
    browser.wait(lambda: browser.has("member-remove-bob"), "bob among the members")
    bob = signed_in(world, "bob")
    assert bob.get(paths(world)["detail"]).status_code == 200
    assert bob.get(rt).status_code == 200
    browser.submit("member-remove-bob")
    browser.wait(lambda: not browser.has("member-remove-bob"), "bob gone from the members")
    assert bob.get(paths(world)["detail"]).status_code == 404
    assert bob.get(rt).status_code == 404
    assert browser.console_errors() == []


def test_the_company_pages_speak_czech(world):
    with world.session() as session:
        users.update(session, world.ids["alice"], actor=SYSTEM, language="cs")
    client = signed_in(world, "alice")
    members = text_of(client.get(paths(world)["members"]))
    assert "Členové firmy Company alpha" in members and "správce" in members
    listed = text_of(client.get("/companies"))
    assert "Firmy" in listed and "Šablony spuštění" in listed and "zapnuto" in listed
