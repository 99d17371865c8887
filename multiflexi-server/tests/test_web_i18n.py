"""The pages' languages: every marked text has its Czech translation, the compiled
catalogs are those of the sources, and each page speaks the language of the user's
setting, else of the browser."""

from __future__ import annotations

from helpers import signed_in

from multiflexi.core import users
from multiflexi.core.audit import Actor
from multiflexi.server.web import catalog, i18n

ADMIN = Actor(name="root", user_id=None)


def test_every_marked_text_is_translated_into_every_language():
    for language in catalog.translated_languages():
        assert catalog.missing(language) == [], f"{language}: run scripts/translations.py update"


def test_the_catalogs_hold_only_the_texts_the_pages_use():
    used = {message.id for message in catalog.extract() if message.id}
    for language in catalog.translated_languages():
        held = {message.id for message in catalog.read(language) if message.id}
        assert held - used == set(), f"{language}: texts no page uses any more"


def test_the_compiled_catalogs_are_those_of_the_po_files():
    for language in catalog.translated_languages():
        assert catalog.mo_path(language).read_bytes() == catalog.compiled(language), (
            f"{language}: run scripts/translations.py compile"
        )


def test_the_page_speaks_the_browsers_language_and_english_otherwise(world):
    client = world.client()
    czech = client.get("/login", headers={"Accept-Language": "cs-CZ,cs;q=0.9,en;q=0.5"})
    assert '<html lang="cs"' in czech.text
    assert "Přejít na obsah" in czech.text
    for accept in ("de-DE,de;q=0.9", "en-GB", None):
        headers = {"Accept-Language": accept} if accept else {}
        page = client.get("/login", headers=headers)
        assert '<html lang="en"' in page.text
        assert "Skip to content" in page.text


def test_a_users_own_language_wins_over_the_browsers(world):
    client = signed_in(world, "alice")
    english = {"Accept-Language": "en-US,en;q=0.9"}
    assert '<html lang="en"' in client.get("/", headers=english).text
    with world.session() as session:
        alice = users.get_by_login(session, "alice")
        users.update(session, alice.id, actor=ADMIN, language="cs")
    page = client.get("/", headers=english)
    assert '<html lang="cs"' in page.text
    assert ">Odhlásit<" in page.text
    # another user with the same browser keeps English
    assert '<html lang="en"' in signed_in(world, "amy").get("/", headers=english).text
    assert set(i18n.LANGUAGES) == set(users.LANGUAGES)
