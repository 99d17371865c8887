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
from flask_babel import Babel, get_locale, gettext

from multiflexi.core import users
from multiflexi.core.texts import Message

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


def localize(text: object) -> object:
    """A core text in the page's language (anything else as it is).

    A :class:`~multiflexi.core.texts.Message` (a validation error, a refusal, a schedule's
    description) is looked up by its English template and filled with its params, each
    localized in turn (a param may be a Message: the name of a kind of object, a unit); a
    translation whose placeholders do not fit shows the English text. A plain str is
    translated when the catalog has it. Outside a request: the English text.
    """
    if not has_request_context():
        return str(text) if isinstance(text, Message) else text
    if isinstance(text, Message):
        params = {name: _param(value) for name, value in text.params.items()}
        try:
            return gettext(text.template).format(**params)
        except (KeyError, IndexError, ValueError):
            return str(text)
    if isinstance(text, str) and text:
        return gettext(text)
    return text


def _param(value: object) -> object:
    # only the core's own texts: a company's or a user's name that happens to be a
    # catalog text stays as it is
    return localize(value) if isinstance(value, Message) else value


def localized(text: object) -> str:
    """:func:`localize` as a str (for a flash, a page's detail)."""
    return str(localize(text))


def _finalize(value: object) -> object:
    # every ``{{ ... }}`` of a template: a core text shows in the page's language
    return localize(value) if isinstance(value, Message) else value


def install(app: Flask) -> None:
    """Give ``app`` its translations (and ``_``, ``gettext``, ``ngettext`` in templates).

    Templates show the core's texts in the page's language wherever they print one
    (``{{ problem }}``, ``{{ row.schedule }}``), and have the ``localize`` filter for a
    text inside an expression.
    """
    if "babel" in app.extensions:
        return
    Babel(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=select_language,
    )
    app.jinja_env.finalize = _finalize
    app.jinja_env.filters["localize"] = localized


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "TRANSLATIONS",
    "current_language",
    "install",
    "localize",
    "localized",
    "select_language",
]
