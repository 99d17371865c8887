"""Texts given in one or more languages (the manifest formats' "localizedString")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: the language codes the interchange schemas allow as keys of a localized text
LANGUAGES: frozenset[str] = frozenset(
    [
        "en",
        "cs",
        "sk",
        "de",
        "fr",
        "es",
        "it",
        "pl",
        "nl",
        "pt",
        "sv",
        "fi",
        "da",
        "no",
        "hu",
        "ro",
        "bg",
        "el",
        "tr",
        "hr",
        "sl",
        "et",
        "lt",
        "lv",
        "ru",
        "uk",
        "ja",
        "zh",
        "ko",
        "ar",
        "he",
        "hi",
    ]
)

#: a plain string in a manifest is read as text in this language
DEFAULT_LANGUAGE = "en"


def _order(lang: str) -> tuple[int, str]:
    return (0 if lang == DEFAULT_LANGUAGE else 1, lang)


@dataclass(frozen=True)
class Localized:
    """One text in several languages; English (or else the first language) is the main one.

    ``texts`` holds ``(language, text)`` pairs, English first and then by language
    code, so two equal texts compare equal whatever order their file used.
    """

    texts: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, value: str | Mapping[str, str]) -> Localized:
        """From a plain string (English) or a mapping of language code to text."""
        if isinstance(value, str):
            return cls(((DEFAULT_LANGUAGE, value),))
        return cls(tuple(sorted(value.items(), key=lambda item: _order(item[0]))))

    @classmethod
    def optional(cls, value: str | Mapping[str, str] | None) -> Localized | None:
        """Like `of`, but empty texts are dropped and nothing left gives None."""
        if value is None:
            return None
        if isinstance(value, str):
            return cls.of(value) if value else None
        kept = {lang: text for lang, text in value.items() if text}
        return cls.of(kept) if kept else None

    @property
    def text(self) -> str:
        """The main text: English when given, else the first language's."""
        return self.texts[0][1]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang, _ in self.texts)

    def get(self, lang: str) -> str | None:
        for code, text in self.texts:
            if code == lang:
                return text
        return None

    def to_json(self) -> str | dict[str, str]:
        """A plain string when only English is given, else an object by language."""
        if self.languages == (DEFAULT_LANGUAGE,):
            return self.text
        return dict(self.texts)

    def __str__(self) -> str:
        return self.text


def localized_problem(value: Any) -> str | None:
    """Why `value` is not a localized text, or None when it is one."""
    if isinstance(value, str):
        return None
    if not isinstance(value, Mapping):
        return f"must be a text or an object of language code to text, not {type_name(value)}"
    if not value:
        return "must name at least one language"
    unknown = sorted(str(k) for k in value if k not in LANGUAGES)
    if unknown:
        return f"unknown language code(s) {', '.join(map(repr, unknown))}"
    not_text = sorted(str(k) for k, v in value.items() if not isinstance(v, str))
    if not_text:
        return f"the text for {', '.join(map(repr, not_text))} must be a string"
    return None


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__
