"""The REST API under /api/v1: one module per resource."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__)
