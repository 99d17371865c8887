#!/usr/bin/env python3
"""Keep the web UI's translations in step with its pages.

    scripts/translations.py update     # add new texts to each language's .po file, drop gone ones
    scripts/translations.py compile    # write the .mo files the pages read (commit both)
    scripts/translations.py check      # list untranslated texts (and core texts whose
                                       # {placeholders} differ); exit 1 if there are any
    scripts/translations.py absorb FILE [LANG]   # take translations from another .po file

A translator edits ``src/multiflexi/server/web/translations/<lang>/LC_MESSAGES/messages.po``
(texts are marked with ``_()`` in templates and Python; the core's messages are its
``msg("...")`` calls), then runs ``update`` and ``compile``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from multiflexi.server.web import catalog


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("update", "compile", "check", "absorb"):
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "absorb":
        if not rest:
            print("absorb needs the .po file to take translations from", file=sys.stderr)
            return 2
        language = rest[1] if len(rest) > 1 else catalog.translated_languages()[0]
        print(f"{language}: {catalog.absorb(language, Path(rest[0]))} translations taken")
        return 0
    for language in catalog.translated_languages():
        if command == "update":
            found = catalog.update(language)
            print(f"{language}: {len(found)} texts, {len(catalog.missing(language))} untranslated")
        elif command == "compile":
            catalog.compile_all()
            print(f"{language}: {catalog.mo_path(language)}")
        else:
            gaps = catalog.missing(language)
            for text in gaps:
                print(f"{language}: untranslated: {text!r}")
            wrong = catalog.misplaced(language)
            for text in wrong:
                print(f"{language}: placeholders differ from the English: {text!r}")
            if gaps or wrong:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
