"""Jobs: the list with filters kept in the URL, a job's page with its live output, the
actions on a job (cancel, run again) and its downloads (artifacts, the whole output).

Every view parses the request, makes one call of :mod:`multiflexi.core.jobviews` and
renders; access and every rule are the core's.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from multiflexi.core import jobviews
from multiflexi.core.errors import Conflict, InvalidTransition, MultiFlexiError, ValidationError
from multiflexi.core.jobviews import JobDetail, JobFilter
from multiflexi.server import app as server_app
from multiflexi.server import auth
from multiflexi.server.web import base, forms, htmx

blueprint = Blueprint("jobs", __name__, url_prefix="/jobs")

#: rows per page of the list
PAGE_SIZE = 50
#: output lines a job's page keeps; older ones leave the page (the download has them all)
OUTPUT_CAP = 2000
#: the query parameters of the list's filters (the dashboard links to them)
FILTER_PARAMS = (
    "state",
    "company",
    "application",
    "run_template",
    "launched_by",
    "trigger",
    "since",
    "until",
)
#: the <input type="datetime-local"> format (minutes; seconds accepted)
LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class _Problems(dict[str, list[str]]):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _int(name: str, problems: _Problems) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        problems.add(name, _("not a number: %(text)s", text=repr(raw[:40])))
        return None
    return int(raw)


def _time(name: str, problems: _Problems) -> dt.datetime | None:
    """A date-time in the installation's zone (as a datetime-local input sends it),
    or ISO 8601 with an offset (a link may carry one)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if "T" in raw and " " in raw:  # an offset's "+" left unencoded in a link reads as a space
        raw = raw.replace(" ", "+")
    for fmt in LOCAL_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt).replace(tzinfo=base.zone())
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        problems.add(
            name, _("not a date and time: %(text)s (use YYYY-MM-DDTHH:MM)", text=repr(raw[:40]))
        )
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=base.zone())


def _filters() -> tuple[JobFilter, _Problems, int]:
    """The filters and the page's offset from the query string; problems of parsing."""
    problems = _Problems()
    offset = _int("offset", problems) or 0
    launched_by = request.args.get("launched_by", "").strip() or None
    trigger = request.args.get("trigger", "").strip() or None
    states = tuple(dict.fromkeys(s.strip() for s in request.args.getlist("state") if s.strip()))
    found = JobFilter(
        states=states,
        company_id=_int("company", problems),
        application_id=_int("application", problems),
        run_template_id=_int("run_template", problems),
        launched_by=launched_by,
        trigger=trigger,
        since=_time("since", problems),
        until=_time("until", problems),
    )
    return found, problems, offset


def _args() -> dict[str, Any]:
    """The filters as sent (blank ones left out), to build the links of other pages."""
    kept: dict[str, Any] = {}
    for name in FILTER_PARAMS:
        values = [v for v in request.args.getlist(name) if v.strip()]
        if values:
            kept[name] = values if name == "state" else values[0]
    return kept


def _local(value: dt.datetime | None) -> str:
    """A time as a datetime-local input shows it, in the installation's zone."""
    return "" if value is None else value.astimezone(base.zone()).strftime(LOCAL_FORMATS[0])


@blueprint.context_processor
def _links() -> dict[str, Any]:
    return {"run_template_link": run_template_link}


def run_template_link(rt_id: int) -> str:
    """A run template's page when the web UI has it, else its jobs."""
    if "web.runtemplates.detail" in current_app.view_functions:
        return url_for("web.runtemplates.detail", rt_id=rt_id)
    return url_for("web.jobs.index", run_template=rt_id)


@blueprint.get("")
def index() -> Response:
    """The job list: filters in the URL, server-side paging, newest first. With htmx, the
    filter form swaps the table only and the URL follows."""
    filters, problems, offset = _filters()
    db = base.db()
    principal = auth.current_principal()
    listing = None
    if not problems:
        try:
            listing = jobviews.job_list(db, principal, filters, limit=PAGE_SIZE, offset=offset)
        except ValidationError as exc:
            problems.update(forms.problems_of(exc))
    status = 422 if problems else 200
    args = _args()
    context: dict[str, Any] = {
        **base.list_page(listing.page if listing else None, "web.jobs.index", **args),
        "problems": problems,
        "args": args,
        "since": _local(filters.since),
        "until": _local(filters.until),
    }
    if htmx.is_partial():
        return base.render("web/jobs/_table.html", status, **context)
    choices = listing.choices if listing else jobviews.choices(db, principal)
    return base.render("web/jobs/list.html", status, choices=choices, **context)


def _detail_page(detail: JobDetail, status: int = 200, error: list[str] | None = None) -> Response:
    start = max(0, detail.job.output_lines - OUTPUT_CAP)
    html = render_template(
        "web/jobs/detail.html",
        detail=detail,
        job=detail.job,
        output_after=start,
        output_cap=OUTPUT_CAP,
        action_errors=error or [],
    )
    return Response(html, status=status, mimetype="text/html")


@blueprint.get("/<int:job_id>")
def detail(job_id: int) -> Response:
    """A job's page: what it belongs to, its times, command, environment (secrets
    masked), exit code and meaning, artifacts, actions and its output (live)."""
    found = jobviews.detail(server_app.session(), auth.current_principal(), job_id)
    return _detail_page(found)


@blueprint.get("/<int:job_id>/header")
def header(job_id: int) -> Response:
    """The head of a job's page (state, exit code, times, actions): htmx refreshes it
    when the live output says the job ended."""
    found = jobviews.detail(server_app.session(), auth.current_principal(), job_id)
    html = render_template("web/jobs/_header.html", detail=found, job=found.job)
    return Response(html, mimetype="text/html")


@blueprint.get("/<int:job_id>/ran")
def ran(job_id: int) -> Response:
    """What a job ran (command, artifacts, environment with secrets masked): htmx
    refreshes it when the live output says the job started, and when it ended."""
    found = jobviews.detail(server_app.session(), auth.current_principal(), job_id)
    html = render_template("web/jobs/_ran.html", detail=found, job=found.job)
    return Response(html, mimetype="text/html")


def _refused(job_id: int, exc: MultiFlexiError) -> Response:
    """A refused action: the job's page again, the reason above its actions."""
    found = jobviews.detail(server_app.session(), auth.current_principal(), job_id)
    return _detail_page(found, 422, forms.problem_lines(exc))


@blueprint.post("/<int:job_id>/cancel")
def cancel(job_id: int) -> Response:
    try:
        job = jobviews.cancel(server_app.session(), auth.current_principal(), job_id)
    except (InvalidTransition, ValidationError) as exc:
        return _refused(job_id, exc)
    if job.state == "cancelled":
        flash(_("Job %(id)s cancelled.", id=job_id), "success")
    else:
        flash(
            _("Job %(id)s was asked to stop; it ends as soon as its worker stops it.", id=job_id),
            "success",
        )
    return redirect(url_for("web.jobs.detail", job_id=job_id), code=303)  # type: ignore[return-value]


@blueprint.post("/<int:job_id>/relaunch")
def relaunch(job_id: int) -> Response:
    """Run the job's run template again with the same one-time values."""
    try:
        job = jobviews.relaunch(
            server_app.session(), auth.current_principal(), job_id, schedule_type="adhoc-web"
        )
    except (ValidationError, Conflict) as exc:
        return _refused(job_id, exc)
    note = f" ({job.undelivered})" if job.undelivered else ""
    again = _("Job %(id)s launched: it runs %(old)s's run template again.", id=job.id, old=job_id)
    flash(again + note, "success")
    return redirect(url_for("web.jobs.detail", job_id=job.id), code=303)  # type: ignore[return-value]


@blueprint.get("/<int:job_id>/artifacts/<int:artifact_id>")
def artifact(job_id: int, artifact_id: int) -> Response:
    found, content = jobviews.artifact(
        server_app.session(), auth.current_principal(), job_id, artifact_id
    )
    name = found.name.rsplit("/", 1)[-1] or f"artifact-{found.id}"
    source = io.BytesIO(content) if isinstance(content, bytes) else content
    return send_file(
        source, mimetype="application/octet-stream", as_attachment=True, download_name=name
    )


@blueprint.get("/<int:job_id>/output.txt")
def output_text(job_id: int) -> Response:
    """The whole output as text, streamed from the stored lines (stderr marked)."""
    lines = jobviews.output_text(server_app.session(), auth.current_principal(), job_id)
    response = Response(stream_with_context(lines), mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="job-{job_id}-output.txt"'
    return response
