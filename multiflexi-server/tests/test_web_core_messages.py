"""The core's messages on a page speak the page's language: a validation error beside its
field, the not-found page of an unknown object, a run template's schedule; the API keeps
the core's English."""

from __future__ import annotations

import html

import pytest
from helpers import signed_in

from multiflexi.core import runtemplates, users
from multiflexi.core.audit import Actor
from multiflexi.server.web import catalog

ADMIN = Actor(name="root", user_id=None)
PAGE = {"Accept": "text/html"}
ENGLISH_EMAIL = "'nope' is not an e-mail address"
CZECH_EMAIL = "'nope' není e-mailová adresa"


def _speaks(world, login: str, language: str) -> None:
    with world.session() as session:
        user = users.get_by_login(session, login)
        users.update(session, user.id, actor=ADMIN, language=language)


def _text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


@pytest.fixture
def czech_alice(world):
    _speaks(world, "alice", "cs")
    return signed_in(world, "alice")


def _edit_company(client, world, **changes):
    form = {"name": "Alpha", "slug": "alpha", "ic": "", "email": "", "csrf_token": client.token}
    return client.post(
        f"/companies/{world.ids['company_a']}/edit", data={**form, **changes}, headers=PAGE
    )


def test_a_bad_company_value_is_explained_beside_its_field_in_czech(world, czech_alice):
    answer = _edit_company(czech_alice, world, email="nope", slug="Not A Slug")
    page = _text(answer)
    assert answer.status_code == 422
    assert CZECH_EMAIL in page
    assert ENGLISH_EMAIL not in page
    assert "'Not A Slug' musí mít 1–64 znaků" in page  # noqa: RUF001
    assert "must be 1-64 characters" not in page


def test_the_same_form_in_english_shows_the_english_message(world):
    client = signed_in(world, "alice")
    page = _text(_edit_company(client, world, email="nope"))
    assert ENGLISH_EMAIL in page
    assert CZECH_EMAIL not in page


def _taken_slug(world) -> str:
    path = f"/api/v1/companies/{world.ids['company_b']}"
    return str(world.call("root", "GET", path).get_json()["slug"])


def test_a_taken_slug_is_refused_in_czech_on_the_page_and_in_english_by_the_api(world, czech_alice):
    taken = _taken_slug(world)
    page = _text(_edit_company(czech_alice, world, slug=taken))
    assert f"zkratka firmy '{taken}' je už obsazena" in page
    assert "is taken" not in page
    answer = world.call(
        "alice",
        "PATCH",
        f"/api/v1/companies/{world.ids['company_a']}",
        json={"slug": taken},
        headers={"Accept-Language": "cs"},
    )
    assert answer.status_code == 409
    assert answer.get_json()["detail"] == f"company slug '{taken}' is taken"


def test_a_new_users_bad_login_is_explained_in_czech(world):
    _speaks(world, "root", "cs")
    client = signed_in(world, "root")
    answer = client.post(
        "/users/new",
        data={"login": "x" * 300, "email": "", "csrf_token": client.token},
        headers=PAGE,
    )
    page = _text(answer)
    assert answer.status_code == 422
    assert "přihlašovací jméno má 1 až" in page
    assert "characters of letters, digits" not in page


def test_a_run_templates_bad_name_is_explained_in_czech(world, czech_alice):
    rt_id = world.ids["rt_a"]
    form = czech_alice.get(f"/run-templates/{rt_id}", headers=PAGE)
    assert form.status_code == 200
    answer = czech_alice.post(
        f"/run-templates/{rt_id}/clone",
        data={"clone_name": "x" * 300, "csrf_token": czech_alice.token},
        headers=PAGE,
    )
    page = _text(answer)
    assert answer.status_code in (409, 422), answer.status_code
    assert "musí mít 1–255 znaků" in page  # noqa: RUF001
    assert "must be 1-255 characters" not in page


def test_an_unknown_run_template_is_named_in_czech(world, czech_alice):
    answer = czech_alice.get("/run-templates/987654", headers=PAGE)
    page = _text(answer)
    assert answer.status_code == 404
    assert "nenalezeno: šablona spuštění 987654" in page
    assert "run template 987654 not found" not in page


def test_a_run_templates_schedule_is_described_in_czech(world, czech_alice):
    rt_id = world.ids["rt_a"]
    with world.session() as session:
        changes = {"interval_code": "d", "delay": 7200, "timezone": "Europe/Prague"}
        runtemplates.update(session, rt_id, changes, actor=ADMIN)
    page = _text(czech_alice.get(f"/run-templates/{rt_id}", headers=PAGE))
    assert "každý den v 02:00 (Europe/Prague)" in page
    assert "every day at" not in page
    english = _text(signed_in(world, "amy").get(f"/run-templates/{rt_id}", headers=PAGE))
    assert "every day at 02:00 (Europe/Prague)" in english


def test_every_core_text_is_in_the_catalog_with_its_placeholders():
    held = {message.id for message in catalog.read("cs") if message.id}
    texts = {text for _file, _line, text in catalog.core_texts()}
    assert texts, "the extraction finds the core's msg() texts"
    assert "{what} {key} not found" in texts
    assert texts - held == set(), "run scripts/translations.py update"
    for language in catalog.translated_languages():
        assert catalog.misplaced(language) == []


def test_a_renamed_placeholder_in_a_translation_is_caught():
    assert catalog.placeholders("{what} {key!r} at {time:02d}") == {
        "what!:",
        "key!r:",
        "time!:02d",
    }
    assert catalog.placeholders("{co} {key!r} v {time:02d}") != catalog.placeholders(
        "{what} {key!r} at {time:02d}"
    )


def test_a_refusal_names_what_was_refused_in_czech(world, czech_alice):
    answer = czech_alice.get("/users/new", headers=PAGE)
    page = _text(answer)
    assert answer.status_code == 403
    assert "jen globální správce smí vytvářet uživatele" in page
    assert "create users" not in page
