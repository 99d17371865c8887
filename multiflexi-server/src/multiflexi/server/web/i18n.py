"""The languages of the pages: Flask-Babel, with the language chosen per request.

The choice, first that applies: the signed-in user's own setting (their profile page),
then the browser's ``Accept-Language``, then English. Page texts are marked with
``_()`` (``gettext``) in templates and in Python; the Czech catalog lives in
``translations/cs/LC_MESSAGES/messages.po`` and is compiled into ``messages.mo``
beside it by ``scripts/translations.py`` (see :mod:`multiflexi.server.web.catalog`).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale

from multiflexi.core import users

#: the languages of the pages, each with its name in itself (for the language menus)
LANGUAGES: dict[str, str] = {"en": "English", "cs": "Čeština"}
DEFAULT_LANGUAGE = "en"
#: where the compiled catalogs are (one folder per language)
TRANSLATIONS = Path(__file__).with_name("translations")

assert tuple(LANGUAGES) == users.LANGUAGES, "the core's list of page languages"


def select_language() -> str:
    """The language of this request's page (see the module's docstring)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES, DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language the page is being shown in (a code of :data:`LANGUAGES`)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def install(app: Flask) -> None:
    """Give ``app`` its translations (and ``_``, ``gettext``, ``ngettext`` in templates)."""
    if "babel" in app.extensions:
        return
    Babel(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_language,
    )


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "TRANSLATIONS",
    "current_language",
    "install",
    "select_language",
]
