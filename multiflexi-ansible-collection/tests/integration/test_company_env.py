from __future__ import annotations

SLUG, PASSWORD = "it-env", "Env-Secret-Value-6620"


def _environment(stack, company_id):
    items = stack.api("GET", f"/companies/{company_id}/environment")["items"]
    return {v["name"]: (v["value"], v["secret"]) for v in items}


def test_a_company_environment_with_a_secret(play, stack):
    first = play("company_env.yml", slug=SLUG)
    assert first.rc == 0, first.stdout[-3000:]
    assert first.changed("Public") and first.changed("Secret")
    assert PASSWORD not in first.stdout
    company_id = first.results["Public"]["company_id"]
    assert _environment(stack, company_id) == {
        "ABRAFLEXI_URL": ("https://abraflexi.example.com", False),
        "ABRAFLEXI_PASSWORD": ("***", True),
    }

    again = play("company_env.yml", slug=SLUG)
    assert again.rc == 0 and again.stats["changed"] == 0, again.stdout[-3000:]

    checked = play("company_env.yml", slug=SLUG, url="https://b.example", check=True, diff=True)
    assert checked.rc == 0 and checked.changed("Public") and not checked.changed("Secret")
    assert checked.results["Public"]["diff"] == {
        "before": {"value": "https://abraflexi.example.com"},
        "after": {"value": "https://b.example"},
    }
    assert _environment(stack, company_id)["ABRAFLEXI_URL"][0] == "https://abraflexi.example.com"

    changed = play("company_env.yml", slug=SLUG, url="https://b.example", update_secrets="always")
    assert changed.rc == 0 and changed.changed("Public") and changed.changed("Secret")
    assert changed.results["Secret"]["variable"]["value"] == "***"
    assert PASSWORD not in changed.stdout
    assert _environment(stack, company_id)["ABRAFLEXI_URL"][0] == "https://b.example"

    gone = play("company_env.yml", slug=SLUG, state="absent")
    assert gone.rc == 0 and gone.changed("Public") and gone.changed("Secret")
    assert _environment(stack, company_id) == {}
    assert play("company_env.yml", slug=SLUG, state="absent").stats["changed"] == 0
