"""Companies by IC and name, users by e-mail, assignments across companies; all tenant-bound."""

from __future__ import annotations


def _ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def test_companies_are_found_by_ic_within_the_visible_ones(world):
    ids = world.ids
    for company in (ids["company_a"], ids["company_b"]):
        changed = world.call("root", "PATCH", f"/api/v1/companies/{company}", json={"ic": "123"})
        assert changed.status_code == 200
    both = world.call("root", "GET", "/api/v1/companies?ic=123")
    assert _ids(both) == [ids["company_a"], ids["company_b"]]
    assert both.get_json()["total"] == 2
    assert _ids(world.call("alice", "GET", "/api/v1/companies?ic=123")) == [ids["company_a"]]
    assert _ids(world.call("nobody", "GET", "/api/v1/companies?ic=123")) == []
    assert _ids(world.call("root", "GET", "/api/v1/companies?ic=999")) == []
    narrowed = world.call("root", "GET", "/api/v1/companies?ic=123&slug=beta")
    assert _ids(narrowed) == [ids["company_b"]]


def test_companies_are_found_by_exact_name(world):
    ids = world.ids
    found = world.call("root", "GET", "/api/v1/companies?name=Company alpha")
    assert _ids(found) == [ids["company_a"]]
    assert _ids(world.call("root", "GET", "/api/v1/companies?name=company alpha")) == []
    assert _ids(world.call("bob", "GET", "/api/v1/companies?name=Company alpha")) == []


def test_users_are_found_by_email_and_others_only_find_themselves(world):
    ids = world.ids
    for login in ("alice", "amy"):
        changed = world.call(
            "root", "PATCH", f"/api/v1/users/{ids[login]}", json={"email": "office@example.com"}
        )
        assert changed.status_code == 200
    both = world.call("root", "GET", "/api/v1/users?email=OFFICE@example.com")
    assert _ids(both) == [ids["alice"], ids["amy"]]
    mine = world.call("alice", "GET", "/api/v1/users?email=office@example.com")
    assert _ids(mine) == [ids["alice"]]
    assert _ids(world.call("bob", "GET", "/api/v1/users?email=office@example.com")) == []
    login = world.call("root", "GET", "/api/v1/users?email=office@example.com&login=amy")
    assert _ids(login) == [ids["amy"]]


def test_assignments_are_listed_across_the_visible_companies(world):
    ids = world.ids
    response = world.call("root", "GET", "/api/v1/company-applications")
    assert response.status_code == 200
    rows = response.get_json()["items"]
    assert [(r["company_id"], r["application_id"]) for r in rows] == [
        (ids["company_a"], ids["application"]),
        (ids["company_b"], ids["application"]),
    ]
    assert set(rows[0]) == {
        "company_id",
        "company_name",
        "company_slug",
        "application_id",
        "application_name",
        "application_uuid",
        "assigned_at",
    }
    assert rows[0]["company_slug"] == "alpha"
    theirs = world.call("alice", "GET", "/api/v1/company-applications").get_json()["items"]
    assert [r["company_id"] for r in theirs] == [ids["company_a"]]
    paged = world.call("root", "GET", "/api/v1/company-applications?limit=1&offset=1").get_json()
    assert [r["company_id"] for r in paged["items"]] == [ids["company_b"]]
    assert paged["total"] == 2


def test_assignment_filters_must_name_something_visible(world):
    ids = world.ids
    base = "/api/v1/company-applications"
    filtered = world.call("root", "GET", f"{base}?company_id={ids['company_b']}").get_json()
    assert [r["company_id"] for r in filtered["items"]] == [ids["company_b"]]
    by_app = world.call("root", "GET", f"{base}?application_id={ids['application']}").get_json()
    assert by_app["total"] == 2
    assert world.call("alice", "GET", f"{base}?company_id={ids['company_b']}").status_code == 404
    assert world.call("root", "GET", f"{base}?application_id=99999").status_code == 404
