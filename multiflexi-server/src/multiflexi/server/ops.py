"""Operations endpoints: /healthz, /readyz, /metrics."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("ops", __name__)
