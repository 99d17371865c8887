"""What htmx asks of a view: a partial (the fragment it swaps) instead of the page."""

from __future__ import annotations

from flask import request


def is_partial() -> bool:
    """An htmx request for a fragment (a boosted link still wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )
