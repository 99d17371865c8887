"""Companies: create, slug lookup, change, environment, user roles, application assignment."""

from __future__ import annotations


def test_a_company_is_created_found_by_slug_and_changed(world):
    created = world.call("root", "POST", "/api/v1/companies", json={"name": "Účetní s.r.o."})
    assert created.status_code == 201
    company = created.get_json()
    assert company["slug"] == "ucetni_s_r_o"
    assert created.headers["Location"].endswith(f"/api/v1/companies/{company['id']}")
    found = world.call("root", "GET", "/api/v1/companies?slug=ucetni_s_r_o").get_json()
    assert [c["id"] for c in found["items"]] == [company["id"]]
    taken = world.call("root", "POST", "/api/v1/companies", json={"name": "x", "slug": "alpha"})
    assert taken.status_code == 409
    changed = world.call(
        "root", "PATCH", f"/api/v1/companies/{company['id']}", json={"email": "office@example.com"}
    )
    assert changed.get_json()["email"] == "office@example.com"
    assert changed.get_json()["name"] == "Účetní s.r.o."


def test_unknown_members_and_bad_values_are_refused_and_change_nothing(world):
    path = f"/api/v1/companies/{world.ids['company_a']}"
    for body in ({"colour": "red"}, {"slug": "Not A Slug"}, {"name": ""}, {"email": "nope"}):
        response = world.call("alice", "PATCH", path, json=body)
        assert response.status_code == 422, body
        assert response.get_json()["errors"]
    assert world.call("alice", "GET", path).get_json()["slug"] == "alpha"


def test_company_admins_manage_the_environment_and_managers_may_not(world):
    base = f"/api/v1/companies/{world.ids['company_a']}/environment"
    assert world.call("amy", "PUT", f"{base}/NEW", json={"value": "1"}).status_code == 403
    assert world.call("alice", "PUT", f"{base}/NEW", json={"value": "1"}).status_code == 200
    assert world.call("alice", "PUT", f"{base}/1BAD", json={"value": "1"}).status_code == 422
    names = [v["name"] for v in world.call("amy", "GET", base).get_json()["items"]]
    assert names == ["COMPANY_PLAIN", "COMPANY_SECRET", "NEW"]
    assert world.call("alice", "DELETE", f"{base}/NEW").status_code == 204
    assert world.call("alice", "DELETE", f"{base}/NEW").status_code == 404


def test_roles_are_granted_replaced_and_revoked(world):
    ids = world.ids
    base = f"/api/v1/companies/{ids['company_a']}/users"
    granted = world.call("alice", "PUT", f"{base}/{ids['nobody']}", json={"role": "viewer"})
    assert granted.status_code == 200 and granted.get_json()["role"] == "viewer"
    assert world.call("nobody", "GET", f"/api/v1/companies/{ids['company_a']}").status_code == 200
    bad = world.call("alice", "PUT", f"{base}/{ids['nobody']}", json={"role": "owner"})
    assert bad.status_code == 422
    members = world.call("alice", "GET", base).get_json()["items"]
    assert {m["login"]: m["role"] for m in members} == {
        "alice": "admin",
        "amy": "manager",
        "nobody": "viewer",
    }
    assert world.call("alice", "DELETE", f"{base}/{ids['nobody']}").status_code == 204
    assert world.call("nobody", "GET", f"/api/v1/companies/{ids['company_a']}").status_code == 404


def test_a_company_admin_keeps_their_own_role_and_a_global_admin_changes_anyones(world):
    ids = world.ids
    base = f"/api/v1/companies/{ids['company_a']}/users"

    def roles():
        return {m["login"]: m["role"] for m in world.call("root", "GET", base).get_json()["items"]}

    before = roles()
    for call in (
        ("PUT", f"{base}/{ids['alice']}", {"role": "manager"}),
        ("PUT", f"{base}/{ids['alice']}", {"role": "viewer"}),
        ("DELETE", f"{base}/{ids['alice']}", None),
    ):
        method, path, body = call
        refused = world.call("alice", method, path, json=body)
        assert refused.status_code == 409, call
        assert "ask another administrator of the company" in refused.get_json()["detail"]
    assert roles() == before and before["alice"] == "admin"
    assert (
        world.call("alice", "PUT", f"{base}/{ids['alice']}", json={"role": "admin"}).status_code
        == 200
    ), "keeping it is no change"
    assert (
        world.call("root", "PUT", f"{base}/{ids['alice']}", json={"role": "manager"}).get_json()[
            "role"
        ]
        == "manager"
    )
    assert (
        world.call("root", "PUT", f"{base}/{ids['root']}", json={"role": "admin"}).status_code
        == 200
    )
    assert (
        world.call("root", "PUT", f"{base}/{ids['root']}", json={"role": "viewer"}).get_json()[
            "role"
        ]
        == "viewer"
    )
    assert world.call("root", "DELETE", f"{base}/{ids['root']}").status_code == 204


def test_assigning_an_application_is_idempotent(world):
    ids = world.ids
    created = world.call("root", "POST", "/api/v1/companies", json={"name": "Gamma"}).get_json()
    path = f"/api/v1/companies/{created['id']}/applications/{ids['application']}"
    first = world.call("root", "PUT", path)
    assert first.status_code == 201 and first.get_json()["created"] is True
    second = world.call("root", "PUT", path)
    assert second.status_code == 200 and second.get_json()["created"] is False
    assert second.get_json()["run_template_id"] == first.get_json()["run_template_id"]
    listed = world.call("root", "GET", f"/api/v1/companies/{created['id']}/applications")
    assert [a["id"] for a in listed.get_json()["items"]] == [ids["application"]]
    removed = world.call("root", "DELETE", path)
    assert removed.status_code == 200 and removed.get_json()["removed_run_templates"] == 1


def test_deleting_a_company_is_for_administrators(world):
    path = f"/api/v1/companies/{world.ids['company_a']}"
    assert world.call("alice", "DELETE", path).status_code == 403
    assert world.call("root", "DELETE", path).status_code == 200
    assert world.call("root", "GET", path).status_code == 404


def test_a_logo_is_an_allowed_image_as_a_data_uri(world):
    png = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    created = world.call("root", "POST", "/api/v1/companies", json={"name": "Logo", "logo": png})
    assert created.status_code == 201
    assert created.get_json()["logo"] == png
    path = f"/api/v1/companies/{world.ids['company_a']}"
    for logo in ("https://example.com/logo.png", "data:text/html;base64,PGI+"):
        refused = world.call("alice", "PATCH", path, json={"logo": logo})
        assert refused.status_code == 422, logo
        assert any("logo" in e for e in refused.get_json()["errors"])
    assert world.call("alice", "GET", path).get_json()["logo"] is None
