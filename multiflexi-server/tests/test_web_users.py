"""The users' pages: the user list and a user's page (global administrators), the
profile of every signed-in user (details, page language, own password) and API tokens
(shown once, listed by prefix, revoked) — with the Flask test client, and in a browser
where JavaScript matters (the token shown once, the language switch)."""

from __future__ import annotations

import re

import pytest
from helpers import PASSWORD, check_page, csrf_of, signed_in

from multiflexi.core import tokens, users
from multiflexi.core.audit import Actor
from multiflexi.core.users import AuthenticationFailed

SYSTEM = Actor.system("tests")
PEOPLE = ("root", "alice", "amy", "bob", "brenda", "nobody")
NEW_PASSWORD = "a brand new password"


def user_pages(world) -> list[str]:
    alice = world.ids["alice"]
    return ["/users", "/users/new", f"/users/{alice}", f"/users/{alice}/delete"]


def post(client, url, **data):
    return client.post(url, data={"csrf_token": client.token, **data})


def login_of(world, user_id):
    with world.session() as session:
        return users.get(session, user_id).login


def can_sign_in(world, login, password=PASSWORD) -> bool:
    with world.session() as session:
        try:
            users.authenticate(session, login, password, address="198.51.100.1")
        except AuthenticationFailed:
            return False
    return True


# -- who reaches what ------------------------------------------------------------------------


def test_a_global_administrator_reaches_every_users_page(world):
    root = signed_in(world, "root")
    for url in [*user_pages(world), "/profile", "/profile/tokens"]:
        answer = root.get(url)
        assert answer.status_code == 200, url
        assert "PLANTED-" not in answer.text
    assert 'data-testid="menu-users"' in root.get("/").text


@pytest.mark.parametrize("who", ["alice", "amy", "bob", "brenda", "nobody"])
def test_anyone_else_is_refused_the_user_pages_and_sees_no_menu_entry(world, who):
    client = signed_in(world, who)
    own = world.ids[who]
    for url in [*user_pages(world), f"/users/{world.ids['root']}", f"/users/{own}"]:
        assert client.get(url).status_code == 403, (who, url)
    assert 'data-testid="menu-users"' not in client.get("/").text
    # their own account is the profile, linked from their name in the header
    home = client.get("/").text
    assert re.search(r'<a class="who" href="/profile" [^>]*data-testid="signed-in-as">', home)
    assert client.get("/profile").status_code == 200
    assert client.get("/profile/tokens").status_code == 200


def test_a_non_administrator_changes_no_account_by_posting_anyway(world):
    alice, root = world.ids["alice"], world.ids["root"]
    forms = {
        "/users/new": {"login": "intruder", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        f"/users/{root}/edit": {"is_admin": "on", "email": "x@example.org"},
        f"/users/{alice}/edit": {"first_name": "Changed"},
        f"/users/{root}/enabled": {"enabled": "0"},
        f"/users/{root}/password": {"password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        f"/users/{root}/unlock": {},
        f"/users/{root}/delete": {},
    }
    clients = {who: signed_in(world, who) for who in ("alice", "bob", "nobody")}
    before = world.dump()  # after signing in (that records the sign-in time)
    for who, client in clients.items():
        for url, data in forms.items():
            assert post(client, url, **data).status_code == 403, (who, url)
        # another user's token: out of sight (404), not revoked
        answer = post(client, f"/tokens/{world.ids['token_root']}/revoke")
        assert answer.status_code == 404
    assert world.dump() == before


# -- the list ------------------------------------------------------------------------------


def test_the_list_shows_each_account_and_searches_login_name_and_email(world):
    with world.session() as session:
        users.update(
            session, world.ids["amy"], actor=SYSTEM, first_name="Amelia", email="amy@corp.example"
        )
        users.update(session, world.ids["nobody"], actor=SYSTEM, enabled=False)
    root = signed_in(world, "root")
    page = root.get("/users").text
    rows = re.findall(r'data-testid="user-row" data-user-id="\d+" data-login="([^"]+)"', page)
    assert rows == list(PEOPLE)
    assert "amy@corp.example" in page and "Amelia" in page

    def found(text):
        return re.findall(
            r'data-login="([^"]+)"', root.get("/users", query_string={"q": text}).text
        )

    assert found("AMEL") == ["amy"]
    assert found("corp.example") == ["amy"]
    assert found("b") == ["bob", "brenda", "nobody"]
    assert found("no such person") == []
    assert "No user matches" in root.get("/users?q=zzz").text
    nobody_row = page.split(f'data-user-id="{world.ids["nobody"]}"')[1].split("</tr>")[0]
    assert "disabled" in nobody_row


def test_the_list_is_paged_on_the_server(world):
    with world.session() as session:
        for n in range(55):
            users.create(session, f"extra{n:02d}", actor=SYSTEM)
    root = signed_in(world, "root")
    first = root.get("/users").text
    assert first.count('data-testid="user-row"') == 50
    assert 'data-testid="page-next"' in first
    second = root.get("/users?offset=50").text
    assert second.count('data-testid="user-row"') == len(PEOPLE) + 55 - 50


def test_a_login_held_back_by_the_throttle_is_shown_locked_and_an_admin_unlocks_it(world):
    with world.session() as session:
        for _ in range(users.MAX_FAILED_LOGINS):
            with pytest.raises(AuthenticationFailed):
                users.authenticate(session, "alice", "wrong", address="203.0.113.9")
    root = signed_in(world, "root")
    alice = world.ids["alice"]
    row = root.get("/users").text.split(f'data-user-id="{alice}"')[1].split("</tr>")[0]
    assert ">locked<" in row
    page = root.get(f"/users/{alice}").text
    assert 'data-testid="user-locked"' in page and 'data-testid="unlock-user"' in page
    answer = post(root, f"/users/{alice}/unlock")
    assert answer.status_code == 303
    after = root.get(answer.headers["Location"]).text
    assert 'data-testid="user-locked"' not in after
    assert "failed sign-ins of alice are forgotten" in after
    with world.session() as session:
        assert users.held_back(session, ["alice"]) == set()


# -- creating and changing accounts --------------------------------------------------------


def test_creating_a_user_shows_each_problem_beside_its_field_and_stores_nothing(world):
    root = signed_in(world, "root")
    before = world.dump()
    bad = post(
        root,
        "/users/new",
        login="no spaces",
        email="not-an-address",
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )
    assert bad.status_code == 422
    assert 'data-testid="error-login"' in bad.text
    assert 'value="no spaces"' in bad.text  # what was typed stays
    differ = post(root, "/users/new", login="carol", password=NEW_PASSWORD, password2="other one")
    assert differ.status_code == 422 and 'data-testid="error-password2"' in differ.text
    short = post(root, "/users/new", login="carol", password="short", password2="short")
    assert short.status_code == 422 and 'data-testid="error-password"' in short.text
    taken = post(root, "/users/new", login="ALICE", password=NEW_PASSWORD, password2=NEW_PASSWORD)
    assert taken.status_code == 422 and "already taken" in taken.text
    for answer in (bad, differ, short, taken):
        assert NEW_PASSWORD not in answer.text
    assert world.dump() == before


def test_a_created_user_signs_in_and_an_administrator_is_made_one(world):
    root = signed_in(world, "root")
    answer = post(
        root,
        "/users/new",
        login="carol",
        first_name="Carol",
        last_name="Nováková",
        email="carol@example.org",
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
        is_admin="on",
    )
    assert answer.status_code == 303
    page = root.get(answer.headers["Location"]).text
    assert "User carol created." in page
    assert 'data-testid="user-is-admin"' in page
    assert can_sign_in(world, "carol", NEW_PASSWORD)


def test_a_users_page_shows_their_company_roles_and_tokens(world):
    root = signed_in(world, "root")
    page = root.get(f"/users/{world.ids['amy']}").text
    roles = re.findall(r'data-testid="role" data-company-id="(\d+)" data-role="(\w+)"', page)
    assert roles == [(str(world.ids["company_a"]), "manager")]
    assert "Company alpha" in page
    assert "amy&#39;s token" in page or "amy's token" in page
    assert tokens.TOKEN_PREFIX in page  # the prefix, never the whole token
    assert world.tokens["amy"] not in page


def test_editing_a_user_and_the_last_administrator_stays_one(world):
    root = signed_in(world, "root")
    alice = world.ids["alice"]
    saved = post(root, f"/users/{alice}/edit", first_name="Alice", email="alice@example.org")
    assert saved.status_code == 303
    with world.session() as session:
        user = users.get(session, alice)
        assert (user.first_name, user.email, user.is_admin) == ("Alice", "alice@example.org", False)
    bad = post(root, f"/users/{alice}/edit", email="nope")
    assert bad.status_code == 422 and 'data-testid="error-email"' in bad.text

    before = world.dump()
    demote = post(root, f"/users/{world.ids['root']}/edit", first_name="")
    assert demote.status_code == 409
    assert "last enabled global administrator" in demote.text
    disable = post(root, f"/users/{world.ids['root']}/enabled", enabled="0")
    assert disable.status_code == 409
    assert 'data-testid="error-enabled"' in disable.text
    assert "last enabled global administrator" in disable.text
    assert world.dump() == before


def test_a_disabled_user_cannot_sign_in_until_enabled_again(world):
    root = signed_in(world, "root")
    alice = world.ids["alice"]
    assert post(root, f"/users/{alice}/enabled", enabled="0").status_code == 303
    assert not can_sign_in(world, "alice")
    token = world.headers("alice")
    assert world.client().get("/api/v1/me", headers=token).status_code == 401
    assert post(root, f"/users/{alice}/enabled", enabled="1").status_code == 303
    assert can_sign_in(world, "alice")


def test_an_administrator_sets_a_new_password(world):
    root = signed_in(world, "root")
    amy = world.ids["amy"]
    differ = post(root, f"/users/{amy}/password", password=NEW_PASSWORD, password2="typo")
    assert differ.status_code == 422 and 'data-testid="error-password2"' in differ.text
    assert can_sign_in(world, "amy")
    answer = post(root, f"/users/{amy}/password", password=NEW_PASSWORD, password2=NEW_PASSWORD)
    assert answer.status_code == 303
    assert "sign-in throttles of the login are lifted" in root.get(answer.headers["Location"]).text
    assert can_sign_in(world, "amy", NEW_PASSWORD) and not can_sign_in(world, "amy")


def test_a_new_password_signs_out_the_browsers_signed_in_with_the_old_one(world):
    amy_here, amy_there = signed_in(world, "amy"), signed_in(world, "amy")
    answer = post(
        amy_here,
        "/profile/password",
        current_password=PASSWORD,
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )
    assert answer.status_code == 303
    # the browser that changed it stays signed in; the other one is asked to sign in again
    assert amy_here.get("/profile").status_code == 200
    assert amy_there.get("/profile").status_code == 302
    assert amy_there.get("/profile").headers["Location"].startswith("/login")
    # an administrator's reset signs out every browser of the account, theirs stay
    root = signed_in(world, "root")
    reset = post(root, f"/users/{world.ids['amy']}/password", password=PASSWORD, password2=PASSWORD)
    assert reset.status_code == 303
    assert amy_here.get("/profile").status_code == 302
    assert root.get("/profile").status_code == 200
    # and so does root's reset of their own password, but not for root's own browser
    root_elsewhere = signed_in(world, "root")
    own = post(
        root, f"/users/{world.ids['root']}/password", password=NEW_PASSWORD, password2=NEW_PASSWORD
    )
    assert own.status_code == 303
    assert root.get("/profile").status_code == 200
    assert root_elsewhere.get("/profile").status_code == 302


def test_deleting_a_user_says_first_what_goes_with_it(world):
    root = signed_in(world, "root")
    amy = world.ids["amy"]
    confirm = root.get(f"/users/{amy}/delete").text
    assert 'data-testid="delete-confirm"' in confirm
    assert "1 API token," in confirm and "1 company role:" in confirm
    assert "Company alpha" in confirm
    answer = post(root, f"/users/{amy}/delete")
    assert answer.status_code == 303 and answer.headers["Location"] == "/users"
    assert "User amy deleted." in root.get("/users").text
    assert root.get(f"/users/{amy}").status_code == 404
    # the last administrator cannot be deleted: the page says why
    refused = post(root, f"/users/{world.ids['root']}/delete")
    assert refused.status_code == 409 and 'data-testid="delete-error"' in refused.text


# -- the profile -----------------------------------------------------------------------------


def test_everyone_changes_their_own_details_and_sees_their_roles(world):
    bob = signed_in(world, "bob")
    page = bob.get("/profile").text
    assert "Company beta" in page and 'data-role="viewer"' in page
    answer = post(bob, "/profile", first_name="Bob", last_name="Builder", email="bob@example.org")
    assert answer.status_code == 303
    with world.session() as session:
        user = users.get(session, world.ids["bob"])
        assert (user.first_name, user.last_name, user.email) == (
            "Bob",
            "Builder",
            "bob@example.org",
        )
    bad = post(bob, "/profile", email="bob at example")
    assert bad.status_code == 422 and 'data-testid="error-email"' in bad.text
    assert "You have no role in any company yet." in signed_in(world, "nobody").get("/profile").text


def test_the_language_setting_switches_the_pages_to_czech_and_back(world):
    bob = signed_in(world, "bob")
    english = {"Accept-Language": "en-US,en;q=0.9"}
    assert '<html lang="en"' in bob.get("/profile", headers=english).text
    answer = bob.post("/profile/language", data={"csrf_token": bob.token, "language": "cs"})
    assert answer.status_code == 303
    page = bob.get(answer.headers["Location"], headers=english).text
    assert '<html lang="cs"' in page
    assert "Jazyk stránek je uložen." in page  # the message is in the new language too
    assert "Váš profil" in page and "Změnit heslo" in page
    assert '<html lang="cs"' in bob.get("/profile/tokens", headers=english).text
    # Automatic: the browser's language again
    post(bob, "/profile/language", language="")
    assert '<html lang="en"' in bob.get("/profile", headers=english).text
    bad = post(bob, "/profile/language", language="xx")
    assert bad.status_code == 422 and 'data-testid="error-language"' in bad.text


def test_the_own_password_change_asks_for_the_current_one(world):
    amy = signed_in(world, "amy")
    before = world.dump()
    wrong = post(
        amy,
        "/profile/password",
        current_password="not my password",
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )
    assert wrong.status_code == 422
    assert 'data-testid="error-current_password"' in wrong.text
    assert NEW_PASSWORD not in wrong.text and "not my password" not in wrong.text
    differ = post(
        amy, "/profile/password", current_password=PASSWORD, password=NEW_PASSWORD, password2="x"
    )
    assert differ.status_code == 422 and 'data-testid="error-password2"' in differ.text
    assert can_sign_in(world, "amy")
    del before  # the wrong one counted as a failed sign-in (the throttle's table changed)
    answer = post(
        amy,
        "/profile/password",
        current_password=PASSWORD,
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )
    assert answer.status_code == 303
    assert can_sign_in(world, "amy", NEW_PASSWORD)


def test_wrong_current_passwords_are_throttled_like_sign_ins(world):
    amy = signed_in(world, "amy")
    for _ in range(users.MAX_FAILED_LOGINS):
        post(amy, "/profile/password", current_password="guess", password=NEW_PASSWORD,
             password2=NEW_PASSWORD)  # fmt: skip
    held = post(
        amy,
        "/profile/password",
        current_password=PASSWORD,
        password=NEW_PASSWORD,
        password2=NEW_PASSWORD,
    )
    assert held.status_code == 429 and "Retry-After" in held.headers
    assert "too many failed logins" in held.text
    assert can_sign_in(world, "amy")  # from elsewhere, the old password still works


# -- API tokens --------------------------------------------------------------------------------


def create_token(client, name="deploy script", expires="30"):
    return post(client, "/profile/tokens", name=name, expires=expires)


def test_a_new_token_is_shown_once_and_works_until_revoked(world):
    bob = signed_in(world, "bob")
    answer = create_token(bob)
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    shown = re.findall(r"mfx_[A-Za-z0-9_-]{43}", answer.text)
    assert len(shown) == 1, "the token appears exactly once in the answer that made it"
    plaintext = shown[0]
    assert 'data-testid="copy-token"' in answer.text
    assert "Set-Cookie" not in answer.headers or plaintext not in answer.headers["Set-Cookie"]

    # never again: not on the list, a reload, another page, nor in the session cookie
    for url in ("/profile/tokens", "/profile", "/", f"/tokens/{world.ids['token_bob']}/revoke"):
        page = bob.get(url)
        assert plaintext not in page.text, url
    listed = bob.get("/profile/tokens").text
    assert "deploy script" in listed and plaintext[: tokens.PREFIX_LENGTH] in listed
    cookies = " ".join(c.value for c in bob._cookies.values())
    assert plaintext not in cookies and plaintext[4:20] not in cookies

    api = world.client()
    bearer = {"Authorization": f"Bearer {plaintext}"}
    assert api.get("/api/v1/me", headers=bearer).json["login"] == "bob"

    token_id = int(re.findall(r'data-token-id="(\d+)"', listed)[-1])
    confirm = bob.get(f"/tokens/{token_id}/revoke").text
    assert (
        'data-testid="revoke-confirm"' in confirm and plaintext[: tokens.PREFIX_LENGTH] in confirm
    )
    revoked = post(bob, f"/tokens/{token_id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["Location"] == "/profile/tokens"
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    row = bob.get("/profile/tokens").text.split(f'data-token-id="{token_id}"')[1].split("</tr>")[0]
    assert ">revoked<" in row and 'data-testid="token-revoke"' not in row


def test_the_token_form_checks_its_fields_and_offers_the_lifetimes(world):
    bob = signed_in(world, "bob")
    form = bob.get("/profile/tokens").text
    offered = re.findall(
        r'<option value="(\w+)"', form.split('id="f-expires"')[1].split("</select>")[0]
    )
    assert offered == ["30", "90", "365", "never"]
    before = world.dump()
    nameless = create_token(bob, name="  ")
    assert nameless.status_code == 422 and 'data-testid="error-name"' in nameless.text
    odd = create_token(bob, expires="7")
    assert odd.status_code == 422 and 'data-testid="error-expires"' in odd.text
    assert "mfx_" not in re.sub(r"mfx_…|mfx_[A-Za-z0-9_-]{8}…", "", nameless.text)
    assert world.dump() == before
    forever = create_token(bob, name="forever", expires="never")
    assert forever.status_code == 201 and "It works until you revoke it." in forever.text
    with world.session() as session:
        made = tokens.list(session, user_id=world.ids["bob"]).items[-1]
        assert (made.name, made.expires_at) == ("forever", None)


def test_an_administrator_sees_and_revokes_another_users_tokens(world):
    root = signed_in(world, "root")
    alice = world.ids["alice"]
    token_id = world.ids["token_alice"]
    page = root.get(f"/users/{alice}").text
    assert f'data-token-id="{token_id}"' in page
    confirm = root.get(f"/tokens/{token_id}/revoke").text
    assert "of alice stops working" in confirm
    answer = post(root, f"/tokens/{token_id}/revoke")
    assert answer.status_code == 303 and answer.headers["Location"] == f"/users/{alice}#tokens"
    assert world.client().get("/api/v1/me", headers=world.headers("alice")).status_code == 401
    # alice herself sees it revoked; her session still works
    assert ">revoked<" in signed_in(world, "alice").get("/profile/tokens").text


def test_no_planted_secret_nor_password_on_any_page_of_the_area(world):
    for who in PEOPLE:
        client = signed_in(world, who)
        urls = ["/profile", "/profile/tokens"]
        if who == "root":
            urls += [*user_pages(world), *(f"/users/{world.ids[p]}" for p in PEOPLE)]
        for url in urls:
            text = client.get(url).text
            assert "PLANTED-" not in text and PASSWORD not in text, (who, url)
            for plain in world.tokens.values():
                assert plain not in text, (who, url)


# -- in a browser --------------------------------------------------------------------------


def _check(browser, name: str, ready: str) -> None:
    check_page(browser, f"users-{name}", ready)


def test_the_users_pages_in_a_browser(browser, world):
    browser.sign_in("root", PASSWORD)
    for name, path, ready in (
        ("list", "/users", "user-row"),
        ("user", f"/users/{world.ids['amy']}", "user-edit-form"),
        ("new", "/users/new", "new-user-form"),
        ("delete", f"/users/{world.ids['amy']}/delete", "delete-confirm"),
        ("profile", "/profile", "profile-form"),
        ("tokens", "/profile/tokens", "token-form"),
        ("revoke", f"/tokens/{world.ids['token_root']}/revoke", "revoke-confirm"),
    ):
        browser.open(path)
        _check(browser, name, ready)
    browser.find("signed-in-as").click()
    browser.wait(lambda: browser.path == "/profile", "the profile from the header")


def test_a_token_is_shown_once_in_a_browser(browser, world):
    browser.sign_in("bob", PASSWORD)
    browser.open("/profile/tokens")
    browser.fill({"name": "laptop script"})
    browser.submit("token-submit")
    browser.wait(lambda: browser.has("token-plaintext"), "the new token")
    plaintext = browser.find("token-plaintext").get_attribute("value")
    assert plaintext.startswith(tokens.TOKEN_PREFIX) and len(plaintext) == 47
    assert browser.find("copy-token").is_displayed()
    # the history entry is the list's now: a reload asks for the list, not the form again
    assert browser.path == "/profile/tokens"
    _check(browser, "token-created", "token-plaintext")
    browser.find("copy-token").click()
    browser.wait(lambda: browser.find("copy-status").text != "", "the copy's outcome")
    browser.driver.refresh()
    browser.wait(lambda: browser.has("token-form"), "the list after a reload")
    assert not browser.has("token-plaintext")
    assert plaintext not in browser.source()
    assert plaintext[: tokens.PREFIX_LENGTH] in browser.source()
    with world.session() as session:
        names = [t.name for t in tokens.list(session, user_id=world.ids["bob"]).items]
    assert names.count("laptop script") == 1, "the reload made no second token"
    browser.driver.back()
    assert plaintext not in browser.source()
    assert browser.console_errors() == []


def test_the_language_switch_in_a_browser(browser, world):
    browser.sign_in("bob", PASSWORD)
    browser.open("/profile")
    assert browser.driver.find_element("tag name", "html").get_attribute("lang") == "en"
    from selenium.webdriver.support.ui import Select

    Select(browser.find("field-language")).select_by_value("cs")
    browser.submit("language-submit")
    browser.wait(lambda: browser.path == "/profile", "the profile again")
    assert browser.driver.find_element("tag name", "html").get_attribute("lang") == "cs"
    assert "Váš profil" in browser.text()
    assert browser.find("menu-jobs").text == "Úlohy"
    _check(browser, "profile-czech", "language-form")
    csrf_of(browser.source())  # the page still carries its forms' token
