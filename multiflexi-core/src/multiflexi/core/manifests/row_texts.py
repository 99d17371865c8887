"""Localized texts in database rows: the main text in a column, every language in JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multiflexi.core.manifests.localized import Localized


def several_languages(obj: object, keys: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The texts of `obj` that are more than one English string, by key and language."""
    out = {}
    for key in keys:
        text: Localized | None = getattr(obj, key)
        if text is not None and text.languages != ("en",):
            out[key] = dict(text.texts)
    return out


def text_from(main: str | None, several: Mapping[str, Any], key: str) -> Localized | None:
    """The text `key`: every language from `several` when kept there, else the main text."""
    if key in several:
        return Localized.of(several[key])
    return Localized.optional(main)
