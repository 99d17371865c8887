from __future__ import annotations

SLUG, LOGIN = "it-users", "it-jane"
PASSWORDS = ("Jane-Password-7731", "Credential-Secret-5512")


def _company(stack):
    return stack.api("GET", f"/companies?slug={SLUG}")["items"][0]


def test_users_roles_credentials_and_tokens(play, stack):
    created = stack.api("POST", "/companies", {"slug": SLUG, "name": "Users test company"})
    ctype = stack.api(
        "POST",
        "/credential-types",
        {
            "company_id": created["id"],
            "name": "API login",
            "fields": [
                {"keyword": "API_USER", "required": True},
                {"keyword": "API_PASSWORD", "secret": True},
            ],
        },
    )
    names = dict(slug=SLUG, login=LOGIN, credential_type="API login")

    first = play("users.yml", **names)
    assert first.rc == 0, first.stdout[-3000:]
    for task in ("User", "Role", "Credential", "Token"):
        assert first.changed(task), task
    assert first.results["Token user"]["msg"] == LOGIN  # the token returned once works
    assert not any(p in first.stdout for p in PASSWORDS)
    user_id = first.results["User"]["id"]
    assert stack.api("GET", f"/users/{user_id}/companies")["items"] == [
        {"company_id": created["id"], "role": "manager"}
    ]
    credential = stack.api("GET", f"/credentials/{first.results['Credential']['id']}")
    assert credential["values"] == {"API_USER": "***", "API_PASSWORD": "***"}
    assert credential["credential_type_id"] == ctype["id"]

    again = play("users.yml", **names)
    assert again.rc == 0 and again.stats["changed"] == 0, again.stdout[-3000:]
    assert again.results["Token user"]["_status"] == "skipped"  # no value the second time
    tokens = stack.api("GET", f"/tokens?user_id={user_id}&active=true")["items"]
    assert [t["name"] for t in tokens] == ["deploy"]

    checked = play("users.yml", role="viewer", first_name="Janet", check=True, diff=True, **names)
    assert checked.rc == 0 and checked.changed("Role") and checked.changed("User")
    assert checked.results["Role"]["diff"] == {
        "before": {"role": "manager"},
        "after": {"role": "viewer"},
    }
    assert stack.api("GET", f"/users/{user_id}/companies")["items"][0]["role"] == "manager"
    assert stack.api("GET", f"/users/{user_id}")["first_name"] == "Jane"

    changed = play("users.yml", role="viewer", update_secrets="always", **names)
    assert changed.rc == 0 and changed.changed("Role") and changed.changed("Credential")
    assert not changed.changed("User") and not changed.changed("Token")
    assert stack.api("GET", f"/users/{user_id}/companies")["items"][0]["role"] == "viewer"
    assert not any(p in changed.stdout for p in PASSWORDS)

    gone = play("users.yml", state="absent", **names)
    assert gone.rc == 0, gone.stdout[-3000:]
    for task in ("Role", "Credential", "Token", "User gone"):
        assert gone.changed(task), task
    assert stack.api("GET", f"/users/{user_id}")["status"] == 404
    assert stack.api("GET", f"/credentials?company_id={created['id']}")["items"] == []
    stack.api("DELETE", f"/companies/{created['id']}")
