from __future__ import annotations


def test_the_original_collections_examples_run_renamed(play, stack):
    done = play("original_examples.yml")
    assert done.rc == 0, done.stdout[-3000:]
    assert done.changed("Create company") and done.changed("Update company")
    company = done.results["Read it"]["companies"][0]
    assert (company["name"], company["ic"], company["email"]) == (
        "Renamed Company",
        "12345678",
        "fixed@mail.com",
    )
    assert done.changed("Delete company")
    assert stack.api("GET", f"/companies/{company['id']}")["status"] == 404
