"""The original MultiFlexi's API paths and shapes, for existing clients."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("compat", __name__)
