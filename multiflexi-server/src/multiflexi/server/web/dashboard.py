"""The dashboard: what ran, what failed, what runs next."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("dashboard", __name__)


@blueprint.get("/")
def index() -> str:
    return render_template("web/dashboard/index.html")
