"""The global search: one box in the top bar of every page (Ctrl+K or ``/`` to reach
it), results shown while typing, and a page of results at ``/search?q=``.

One call of :func:`multiflexi.core.search.find` gives what the signed-in user may
see; a text that names a visible job by id (``#123`` or ``123``) opens that job.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request

from multiflexi.core import search as core_search
from multiflexi.core.errors import ValidationError
from multiflexi.server import app as server_app
from multiflexi.server import auth
from multiflexi.server.web import htmx

blueprint = Blueprint("search", __name__, url_prefix="/search")

#: the query parameter (the box's name)
PARAM = "q"


def job_path(job_id: int) -> str:
    return f"/jobs/{job_id}"


@blueprint.get("")
def index() -> Response:
    """The results page, or (htmx) the results as a fragment for the box's drop-down.

    A full request whose text is a job the user may see goes straight to that job."""
    text = request.args.get(PARAM, "")
    partial = htmx.is_partial()
    template = "web/search/_results.html" if partial else "web/search/index.html"
    try:
        found = core_search.find(server_app.session(), auth.current_principal(), text)
    except ValidationError as refused:
        problems = {PARAM: list(refused.errors) or [refused.summary]}
        html = render_template(template, found=None, text=text, problems=problems)
        return Response(html, status=422, mimetype="text/html")
    if found.job is not None and not partial and core_search.job_id_of(text) is not None:
        return redirect(job_path(found.job.id))  # type: ignore[return-value]
    html = render_template(template, found=found, text=found.text, problems={})
    return Response(html, mimetype="text/html")
