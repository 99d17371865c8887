from __future__ import annotations


def test_a_company_as_code_with_check_and_diff_modes(play, stack):
    first = play("company.yml", slug="it-company")
    assert first.rc == 0, first.stdout[-3000:]
    assert first.changed("Company")
    company_id = first.results["Company"]["id"]
    assert stack.api("GET", f"/companies/{company_id}")["ic"] == "12345678"
    assert first.results["Read back"]["companies"][0]["id"] == company_id
    info = first.results["Installation"]
    assert info["schema_state"] == "current" and info["counts"]["companies"] >= 1
    assert info["versions"]["multiflexi-server"]

    again = play("company.yml", slug="it-company")
    assert again.rc == 0 and not again.changed("Company")
    assert again.stats["changed"] == 0

    checked = play("company.yml", slug="it-company", company_ic="87654321", check=True, diff=True)
    assert checked.changed("Company")
    assert checked.results["Company"]["diff"] == {
        "before": {"ic": "12345678"},
        "after": {"ic": "87654321"},
    }
    assert stack.api("GET", f"/companies/{company_id}")["ic"] == "12345678"

    changed = play("company.yml", slug="it-company", company_ic="87654321")
    assert changed.changed("Company")
    assert stack.api("GET", f"/companies/{company_id}")["ic"] == "87654321"

    gone = play("company.yml", slug="it-company", company_state="absent")
    assert gone.changed("Company")
    assert stack.api("GET", f"/companies/{company_id}")["status"] == 404
    assert not play("company.yml", slug="it-company", company_state="absent").changed("Company")
