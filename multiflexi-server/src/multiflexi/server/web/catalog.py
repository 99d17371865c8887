"""The web UI's message catalogs: extract the marked texts, update each language's
``.po`` file, compile the ``.mo`` files the pages read, and check that every language is
complete. Used by ``scripts/translations.py`` and by the tests; the pages never import it.

Texts are marked with ``_()``, ``gettext``, ``ngettext``, ``lazy_gettext`` (Python) or
``_()`` and ``{% trans %}`` (templates). A translator edits
``translations/<lang>/LC_MESSAGES/messages.po`` and runs ``scripts/translations.py compile``.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

import multiflexi.core
from multiflexi.server.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, TRANSLATIONS

#: the web UI's sources: its Python modules and its templates
SOURCES = Path(__file__).parent
DOMAIN = "messages"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"trimmed": "true"}}


#: the core's sources: their ``msg("...")`` texts reach the pages (errors, schedules)
CORE_SOURCES = Path(next(iter(multiflexi.core.__path__)))
#: what a translator reads above a core text (its placeholders must stay as they are)
CORE_COMMENT = "multiflexi-core text: keep every {placeholder} exactly as it is"


def core_texts(root: Path = CORE_SOURCES) -> Iterator[tuple[str, int, str]]:
    """(file relative to ``root``, line, template) of every ``msg("literal", ...)`` call
    (or ``texts.msg(...)``) in the core's Python sources."""
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name == "msg" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield path.relative_to(root).as_posix(), node.lineno, first.value


def extract() -> Catalog:
    """Every text the web UI marks for translation, with where it is used; and every
    text the core builds with ``msg()`` (the pages show the core's messages)."""
    template = Catalog(project="MultiFlexi", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        SOURCES, METHODS, OPTIONS, KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for filename, lineno, text in core_texts():
        found = template.get(text)
        where = (f"multiflexi-core:{filename}", lineno)
        if found is None:
            template.add(text, None, [where], auto_comments=[CORE_COMMENT])
        else:
            found.locations.append(where)
    return template


HEADER = """\
# Translations of the MultiFlexi web UI's pages.
# Edit the msgstr lines, then run multiflexi-server/scripts/translations.py compile.
# This file is distributed under the same licence as MultiFlexi (MIT)."""


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def translated_languages() -> list[str]:
    return [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="MultiFlexi", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def write(language: str, catalog: Catalog) -> None:
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        # sorted and without line numbers: a change elsewhere in a file changes no line here
        write_po(
            handle,
            catalog,
            width=100,
            sort_output=True,
            include_previous=False,
            include_lineno=False,
        )


def update(language: str) -> Catalog:
    """Bring ``language``'s catalog up to the sources: new texts added untranslated,
    gone ones dropped, the translations of the others kept."""
    catalog = read(language)
    template = extract()
    template.creation_date = catalog.creation_date  # no new header line on every update
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    catalog.header_comment = HEADER
    catalog.last_translator = "MultiFlexi (Python) developers"
    catalog.language_team = LANGUAGES[language]
    write(language, catalog)
    return catalog


def compiled(language: str) -> bytes:
    """The ``.mo`` file of ``language``'s ``.po`` file, as compiling it now gives it."""
    buffer = io.BytesIO()
    write_mo(buffer, read(language), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> list[Path]:
    written = []
    for language in translated_languages():
        mo_path(language).write_bytes(compiled(language))
        written.append(mo_path(language))
    return written


def missing(language: str, wanted: Iterable[str] | None = None) -> list[str]:
    """The marked texts that ``language``'s catalog leaves untranslated (or marks fuzzy)."""
    catalog = read(language)
    wanted_ids = list(wanted) if wanted is not None else [m.id for m in extract() if m.id]
    gaps = []
    for message_id in wanted_ids:
        key = message_id if isinstance(message_id, str) else message_id[0]
        found = catalog.get(message_id) or catalog.get(key)
        strings = found.string if found is not None else None
        texts = strings if isinstance(strings, (list, tuple)) else [strings]
        if found is None or found.fuzzy or not all(texts):
            gaps.append(key)
    return gaps


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a core text (with their ``!r`` and format spec)."""
    import string

    found = set()
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            found.add(f"{name}!{conversion or ''}:{spec or ''}")
    return found


def misplaced(language: str) -> list[str]:
    """The core texts whose translation in ``language`` has other placeholders than the
    English (a missing, renamed or extra ``{name}``, or one that does not parse)."""
    catalog = read(language)
    wrong = []
    for _filename, _lineno, text in core_texts():
        found = catalog.get(text)
        if found is None or not found.string or not isinstance(found.string, str):
            continue
        try:
            same = placeholders(found.string) == placeholders(text)
        except ValueError:
            same = False
        if not same:
            wrong.append(text)
    return sorted(set(wrong))


def absorb(language: str, other: Path) -> int:
    """Copy into ``language``'s catalog the translations ``other`` (a ``.po`` file, e.g.
    the other side of a merge) has for texts this one leaves untranslated; how many."""
    catalog = read(language)
    with other.open("rb") as handle:
        theirs = read_po(handle, locale=language, domain=DOMAIN)
    taken = 0
    for message in theirs:
        if not message.id or not message.string or message.fuzzy:
            continue
        ours = catalog.get(message.id, context=message.context)
        if ours is None:
            catalog.add(message.id, message.string, message.locations, context=message.context)
            taken += 1
        elif not ours.string:
            ours.string = message.string
            taken += 1
    write(language, catalog)
    return taken


__all__ = [
    "absorb",
    "compile_all",
    "compiled",
    "core_texts",
    "extract",
    "misplaced",
    "missing",
    "mo_path",
    "po_path",
    "read",
    "translated_languages",
    "update",
    "write",
]
