"""Logos: small images kept in the database as ``data:`` URIs.

A company's logo is stored as the original MultiFlexi stores it, a data URI in
the ``logo`` column, so every face can show it without serving a file. The rule
is one: an image of an allowed type (:data:`LOGO_TYPES`), whose content really is
that type, of at most :data:`LOGO_MAX_BYTES`. A page shows it only in an ``<img>``
element, where an SVG's scripts do not run.
"""

from __future__ import annotations

import base64
import binascii
import re

from multiflexi.core.errors import ValidationError
from multiflexi.core.texts import msg

#: the most bytes a logo may have (decoded)
LOGO_MAX_BYTES = 64 * 1024
#: media type -> what a person calls it
LOGO_TYPES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/svg+xml": "SVG",
}
#: the longest data URI a logo can be (its base64 text and the longest prefix)
LOGO_MAX_CHARS = len("data:image/svg+xml;base64,") + 4 * ((LOGO_MAX_BYTES + 2) // 3)

#: what a stored logo looks like (its content is checked beyond this: :func:`logo_problem`)
LOGO_PATTERN = (
    r"^data:(?:" + "|".join(re.escape(kind) for kind in LOGO_TYPES) + r");base64,"
    r"[A-Za-z0-9+/]*={0,2}$"
)

_DATA_URI = re.compile(r"^data:([a-z]+/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$")
#: an SVG document's start: a byte order mark, an XML declaration, comments, a doctype
_SVG_START = re.compile(
    rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!DOCTYPE[^>]*>\s*)?<svg[\s>]",
    re.S,
)


def sniff(content: bytes) -> str | None:
    """The media type of an image of an allowed type, read from its content; else None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if _SVG_START.match(content[:4096]):
        return "image/svg+xml"
    return None


def _allowed() -> str:
    return ", ".join(LOGO_TYPES.values())


def _content_problem(content: bytes, declared: str | None = None) -> str | None:
    if not content:
        return msg("the file is empty")
    if len(content) > LOGO_MAX_BYTES:
        return msg(
            "at most {limit} KiB (this one has {size} KiB)",
            limit=LOGO_MAX_BYTES // 1024,
            size=len(content) // 1024,
        )
    found = sniff(content)
    if found is None:
        return msg("not an image of an allowed type ({types})", types=_allowed())
    if declared is not None and declared != found:
        return msg("says it is {declared} but holds {found}", declared=declared, found=found)
    return None


def logo_problem(value: str) -> str | None:
    """What is wrong with a logo to store (a data URI), or None when it may be stored."""
    if len(value) > LOGO_MAX_CHARS:
        return msg("at most {limit} KiB", limit=LOGO_MAX_BYTES // 1024)
    found = _DATA_URI.fullmatch(value)
    if found is None:
        return msg("an image as a base64 data: URI ({types})", types=_allowed())
    declared = found.group(1)
    if declared not in LOGO_TYPES:
        return msg(
            "{declared} is not an allowed type ({types})", declared=declared, types=_allowed()
        )
    try:
        content = base64.b64decode(found.group(2), validate=True)
    except binascii.Error:
        return msg("the base64 text of the image is damaged")
    return _content_problem(content, declared)


def logo_from_file(content: bytes, *, field: str = "logo") -> str:
    """An uploaded image file as the data URI a company stores; ValidationError on ``field``
    when it is empty, too large or not an image of an allowed type (its content decides,
    not its name)."""
    problem = _content_problem(content)
    if problem is not None:
        raise ValidationError(msg("logo not accepted"), [(field, problem)])
    kind = sniff(content)
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


__all__ = [
    "LOGO_MAX_BYTES",
    "LOGO_MAX_CHARS",
    "LOGO_PATTERN",
    "LOGO_TYPES",
    "logo_from_file",
    "logo_problem",
    "sniff",
]
