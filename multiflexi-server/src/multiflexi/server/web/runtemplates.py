"""Run templates: the list, a run template's page (configuration, credentials, schedule
and execution, actions after success and failure, recent jobs), activation, clone,
delete and launch.

Each view reads the form, makes the core call the API makes (``multiflexi.core``
runtemplates, jobs, rtoverview) and renders; the core's refusals are shown beside
the fields they are about.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from markupsafe import Markup

from multiflexi.core import (
    access,
    actions,
    jobenv,
    jobs,
    loaders,
    rtoverview,
    runtemplates,
    schedules,
)
from multiflexi.core.errors import Conflict, MissingRequired, PermissionDenied, ValidationError
from multiflexi.core.models import ApplicationField, RunTemplate
from multiflexi.server import app as server_app
from multiflexi.server import auth
from multiflexi.server.web import base, forms, htmx

blueprint = Blueprint("runtemplates", __name__, url_prefix="/run-templates")

#: run templates per page of the list
PAGE_SIZE = 50
#: occurrences the schedule preview shows
PREVIEW_COUNT = 10
#: the most run templates a chain action's choice of target lists
CHAIN_TARGETS = 500
#: the prefix of a one-time value's input at launch (``overrides.NAME``)
OVERRIDES = "overrides."
#: the prefix of the checkbox that removes a stored secret value
CLEAR = "clear."
#: the schedule and execution settings the settings form sends
SETTINGS_TEXT = ("name", "note", "interval_code", "cron", "timezone", "executor", "queue")
SETTINGS_NUMBERS = ("delay", "timeout", "max_concurrency", "max_attempts", "retry_min_gap")
#: the schedule intervals' names as the page shows them (by the core's interval codes)
INTERVAL_LABELS: dict[str, Any] = {
    "n": lazy_gettext("Disabled (manual)"),
    "i": lazy_gettext("Minutely"),
    "h": lazy_gettext("Hourly"),
    "d": lazy_gettext("Daily"),
    "w": lazy_gettext("Weekly"),
    "m": lazy_gettext("Monthly"),
    "y": lazy_gettext("Yearly"),
    "c": lazy_gettext("Custom (cron)"),
}
#: the built-in action kinds' names and descriptions as the page shows them (by kind; a
#: plug-in's stay as the core gives them)
ACTION_KIND_TEXTS: dict[str, tuple[Any, Any]] = {
    "webhook": (
        lazy_gettext("Webhook"),
        lazy_gettext("POST the job's outcome (and its output) as JSON to a URL"),
    ),
    "chain": (
        lazy_gettext("Launch another run template"),
        lazy_gettext("launch a run template of the same company now, passing this job's values on"),
    ),
    "reschedule": (
        lazy_gettext("Run again later"),
        lazy_gettext("run this run template again after a delay"),
    ),
    "deactivate": (
        lazy_gettext("Deactivate"),
        lazy_gettext("set this run template inactive (its schedule stops)"),
    ),
}
#: the built-in action options' descriptions as the page shows them (by kind and option)
ACTION_OPTION_HELP: dict[tuple[str, str], Any] = {
    ("webhook", "url"): lazy_gettext(
        "http:// or https:// address; kept secret (it may carry a token)"
    ),
    ("webhook", "timeout"): lazy_gettext("seconds to wait for an answer"),
    ("webhook", "include_output"): lazy_gettext("send the job's output (at most 64 KiB)"),
    ("chain", "run_template_id"): lazy_gettext("the id of the run template to launch"),
    ("reschedule", "delay"): lazy_gettext("seconds after this job ends"),
}


def _kind_view(kind: actions.Kind) -> actions.Kind:
    """An action kind with its label, description and options' help in the page's language."""
    label, about = ACTION_KIND_TEXTS.get(kind.name, (kind.label, kind.help))
    options = tuple(
        dataclasses.replace(
            spec, help=str(ACTION_OPTION_HELP.get((kind.name, spec.name), spec.help))
        )
        for spec in kind.options
    )
    return dataclasses.replace(kind, label=str(label), help=str(about), options=options)


#: the retry backoffs' names as the page shows them (by the core's values)
BACKOFF_LABELS: dict[str, Any] = {
    "none": lazy_gettext("none"),
    "fixed": lazy_gettext("fixed"),
    "linear": lazy_gettext("linear"),
    "exponential": lazy_gettext("exponential"),
}


def _load(rt_id: int, permission: str = access.READ) -> RunTemplate:
    return loaders.run_template(base.db(), auth.current_principal(), rt_id, permission)


def _may_change(rt_id: int) -> bool:
    """Whether the user may change the run template (else the page has no edit controls)."""
    try:
        _load(rt_id, access.WRITE)
    except PermissionDenied:
        return False
    return True


@functools.cache
# -- the list ---------------------------------------------------------------------------


@blueprint.get("")
def index() -> Response:
    """Every run template the user may see, or one company's (``?company=<id>``)."""
    principal = auth.current_principal()
    company_id = request.args.get("company", type=int)
    if company_id is not None:
        loaders.company(base.db(), principal, company_id)  # 404 for a company not theirs
    found = rtoverview.overview(
        base.db(),
        company_id=company_id,
        company_ids=access.visible_company_ids(principal),
        limit=PAGE_SIZE,
        offset=base.page_offset(),
    )
    return base.render(
        "web/runtemplates/index.html",
        **base.list_page(found, ".index", company=company_id),
        company_id=company_id,
        partial=htmx.is_partial(),
        may_create=access.writes_somewhere(principal)
        if company_id is None
        else loaders.permits(base.db(), principal, company_id, access.WRITE),
    )


@blueprint.app_template_filter("rt_outcome_marks")
def outcome_marks(items: list[rtoverview.Outcome]) -> Markup:
    """The last runs as a row of small coloured marks, oldest first, each a link to its job
    with what it was in its title (built here: a list shows a thousand of them)."""
    if not items:
        return Markup('<span class="muted">{}</span>').format(_("no runs yet"))
    zone = base.zone()
    mark = Markup(
        '<a class="mark mark-{0}" href="/jobs/{1}" data-testid="outcome" data-state="{0}"'
        ' title="{2}"></a>'
    )
    marks = []
    for outcome in reversed(items):
        at = outcome.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        state = base.state_label(outcome.state)
        if outcome.exit_code is None:
            title = _("Job %(id)s: %(state)s, %(at)s", id=outcome.job_id, state=state, at=at)
        else:
            title = _(
                "Job %(id)s: %(state)s, exit code %(code)s, %(at)s",
                id=outcome.job_id,
                state=state,
                code=outcome.exit_code,
                at=at,
            )
        marks.append(mark.format(outcome.state, outcome.job_id, title))
    return Markup('<span class="marks" data-testid="outcomes">{}</span>').format(
        Markup("").join(marks)
    )


# -- one run template ---------------------------------------------------------------------


def _page(
    run_template: RunTemplate,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
    section: str | None = None,
) -> Response:
    found = rtoverview.details(base.db(), run_template)
    principal = auth.current_principal()
    can_edit = _may_change(run_template.id)
    return base.render(
        "web/runtemplates/detail.html",
        status=status,
        rt=run_template,
        app=run_template.application,
        info=found,
        can_edit=can_edit,
        widget=forms.field_widget,
        options=forms.field_options,
        problems=problems or {},
        sent=sent or {},
        section=section,
        intervals=[
            (code, str(INTERVAL_LABELS.get(code, label)))
            for code, label in schedules.INTERVAL_LABELS.items()
        ],
        backoff_names={name: str(label) for name, label in BACKOFF_LABELS.items()},
        executors=runtemplates.EXECUTORS,
        backoffs=runtemplates.RETRY_BACKOFFS,
        zones=forms.time_zones(),
        default_zone=runtemplates.default_timezone(base.db()),
        preview_count=PREVIEW_COUNT,
        action_lists=actions.list_actions(base.db(), principal, run_template.id),
        action_kinds=[_kind_view(kind) for kind in actions.kinds()],
        chain_targets=_chain_targets(run_template) if can_edit else [],
    )


def _chain_targets(run_template: RunTemplate) -> list[RunTemplate]:
    """The run templates a chain may launch: the others of the same company."""
    found = runtemplates.list_run_templates(
        base.db(),
        company_id=run_template.company_id,
        company_ids=access.visible_company_ids(auth.current_principal()),
        limit=CHAIN_TARGETS,
    )
    return [rt for rt in found.items if rt.id != run_template.id]


@blueprint.get("/<int:rt_id>")
def detail(rt_id: int) -> Response:
    return _page(_load(rt_id))


@blueprint.post("/<int:rt_id>/configuration")
def configure(rt_id: int) -> Response:
    """The configuration values: a blank secret keeps the stored one, its "clear" box
    removes it; a blank value of another field removes the stored one (its default applies)."""
    run_template = _load(rt_id, access.WRITE)
    stored = {v.name: v for v in run_template.values}
    values: dict[str, str | None] = {}
    for field in run_template.application.fields:
        name = field.name
        sent = request.form.get(forms.VALUES + name)
        if field.is_secret:
            if forms.checkbox(CLEAR + name):
                values[name] = None
            elif sent:
                values[name] = sent
            continue
        if forms.field_widget(field) == "checkbox":
            before = stored[name].value if name in stored else field.default_value
            change = forms.checkbox_change(field, before)
            if change is not None:
                values[name] = change
            continue
        if sent is None:
            continue
        new = sent if sent.strip() else None
        old = stored[name].value if name in stored else None
        if new != old:
            values[name] = new
    try:
        runtemplates.set_values(base.db(), run_template.id, values, actor=auth.current_principal())
    except ValidationError as exc:
        base.db().rollback()
        plain = _plain(run_template)
        kept = {forms.VALUES + k: v for k, v in values.items() if v is not None and k in plain}
        return _page(_load(rt_id), 422, forms.form_problems(exc), kept, "configuration")
    flash(_("Configuration saved.") if values else _("Nothing to change."))
    return base.see(".detail", rt_id=rt_id, _anchor="configuration")


def _plain(run_template: RunTemplate) -> set[str]:
    """The names of the fields whose values may be shown again in a form."""
    return {f.name for f in run_template.application.fields if not f.is_secret}


def _number(name: str, problems: dict[str, list[str]]) -> int | None:
    text = forms.text(name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        problems.setdefault(name, []).append(_("%(text)s is not a whole number", text=repr(text)))
        return None


def _settings_form() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The settings form as the core's changes (a blank cron, zone or timeout is none)."""
    problems: dict[str, list[str]] = {}
    changes: dict[str, Any] = {name: forms.text(name) for name in SETTINGS_TEXT}
    for name in ("note", "cron", "timezone"):
        changes[name] = changes[name] or None
    for name in SETTINGS_NUMBERS:
        changes[name] = _number(name, problems)
    changes["delay"] = changes["delay"] or 0
    for name in ("max_concurrency", "max_attempts", "retry_min_gap"):
        if changes[name] is None:
            del changes[name]
    changes["retry_backoff"] = forms.text("retry_backoff") or "none"
    changes["deadline_offset"] = forms.optional_text("deadline_offset")
    changes["allow_late"] = forms.checkbox("allow_late")
    return changes, problems


@blueprint.post("/<int:rt_id>/settings")
def settings(rt_id: int) -> Response:
    """Name, note, schedule and execution: all saved together, or none."""
    run_template = _load(rt_id, access.WRITE)
    changes, problems = _settings_form()
    sent = {key: request.form.get(key, "") for key in request.form}
    sent["allow_late"] = changes["allow_late"]
    if problems:
        return _page(run_template, 422, problems, sent, "settings")
    try:
        runtemplates.update(base.db(), run_template.id, changes, actor=auth.current_principal())
    except ValidationError as exc:
        base.db().rollback()
        return _page(_load(rt_id), 422, forms.form_problems(exc), sent, "settings")
    except Conflict as exc:
        base.db().rollback()
        return _page(_load(rt_id), 409, {"name": [exc.message]}, sent, "settings")
    flash(_("Schedule and execution saved."))
    return base.see(".detail", rt_id=rt_id, _anchor="settings")


@blueprint.get("/<int:rt_id>/preview")
def preview(rt_id: int) -> Response:
    """The next occurrences of the schedule being edited (an htmx fragment; the page
    itself when asked without htmx), with each problem beside its input."""
    run_template = _load(rt_id)
    problems: dict[str, list[str]] = {}
    delay = _number_arg("delay", problems)
    description, occurrences = "", list[dt.datetime]()
    if not problems:
        try:
            description, occurrences = rtoverview.preview_schedule(
                base.db(),
                interval_code=request.args.get("interval_code", run_template.interval_code),
                cron=request.args.get("cron") or None,
                delay=delay,
                timezone=request.args.get("timezone") or None,
                count=PREVIEW_COUNT,
            )
        except ValidationError as exc:
            problems = forms.form_problems(exc)
    html = render_template(
        "web/runtemplates/_preview.html",
        description=description,
        occurrences=occurrences,
        problems=problems,
        live=True,
    )
    return Response(html, status=200, mimetype="text/html")


def _number_arg(name: str, problems: dict[str, list[str]]) -> int:
    text = (request.args.get(name) or "").strip()
    if not text:
        return 0
    try:
        return int(text)
    except ValueError:
        problems[name] = [_("%(text)s is not a whole number", text=repr(text))]
        return 0


@blueprint.post("/<int:rt_id>/credentials")
def credentials(rt_id: int) -> Response:
    """Bind (it replaces one of the same kind) or unbind a company credential."""
    run_template = _load(rt_id, access.WRITE)
    credential_id = request.form.get("credential_id", type=int)
    if credential_id is None:
        return _page(
            run_template, 422, {"credential_id": [_("choose a credential")]}, {}, "credentials"
        )
    actor = auth.current_principal()
    if request.form.get("op") == "unbind":
        runtemplates.unbind_credential(base.db(), run_template.id, credential_id, actor=actor)
        flash(_("Credential unbound."))
    else:
        runtemplates.bind_credential(base.db(), run_template.id, credential_id, actor=actor)
        flash(_("Credential bound."))
    return base.see(".detail", rt_id=rt_id, _anchor="credentials")


# -- actions after success and failure -----------------------------------------------------

#: what the buttons of one action do: the core call for each
ACTION_OPS = ("up", "down", "enable", "disable", "remove")


def _action_form(mode: str, kind: actions.Kind) -> tuple[dict[str, Any], dict[str, str]]:
    """The options the add form sent for ``kind`` (inputs ``MODE.KIND.OPTION``; a plug-in's
    as ``NAME=VALUE`` lines), and what to show again after a refusal (no secret)."""
    prefix = f"{mode}.{kind.name}."
    sent: dict[str, str] = {f"{mode}.kind": kind.name}
    if not kind.builtin:
        lines = request.form.get(prefix + "options", "")
        sent[prefix + "options"] = lines
        options: dict[str, Any] = {}
        for line in lines.splitlines():
            name, _, value = line.partition("=")
            if name.strip():
                options[name.strip()] = value.strip()
        return options, sent
    options = {}
    for spec in kind.options:
        value = forms.text(prefix + spec.name)
        if value:
            options[spec.name] = value
            if not spec.secret:
                sent[prefix + spec.name] = value
    return options, sent


def _action_problems(exc: ValidationError, mode: str, kind: str) -> dict[str, list[str]]:
    """The core's problems (``MODE.N.OPTION``) on the inputs of the add form."""
    found: dict[str, list[str]] = {}
    for problem in exc.placed():
        field = problem.field or ""
        head, _, rest = field.partition(".")
        if head == mode and "." in rest:
            option = rest.split(".", 1)[1]
            field = f"{mode}.kind" if option == "action" else f"{mode}.{kind}.{option}"
        else:  # about the whole list, or the mode
            field = forms.GENERAL
        found.setdefault(field, []).append(problem.message)
    return found


@blueprint.post("/<int:rt_id>/actions/<mode>")
def put_action(rt_id: int, mode: str) -> Response:
    """Add an action of the chosen kind to a list, or give the one of that kind new options
    (a secret option left blank keeps the stored one)."""
    run_template = _load(rt_id, access.WRITE)
    section = f"actions-{mode}"
    name = forms.text(f"{mode}.kind")
    kind = actions.kind(name)
    if kind is None:
        if not name:
            problem = _("choose a kind of action")
        else:
            problem = _("no action named %(name)s", name=repr(name))
        return _page(run_template, 422, {f"{mode}.kind": [problem]}, {}, section)
    options, sent = _action_form(mode, kind)
    try:
        actions.put_action(
            base.db(), run_template.id, mode, kind.name, options, actor=auth.current_principal()
        )
    except ValidationError as exc:
        base.db().rollback()
        return _page(_load(rt_id), 422, _action_problems(exc, mode, kind.name), sent, section)
    flash(_("Action %(label)s saved.", label=_kind_view(kind).label))
    return base.see(".detail", rt_id=rt_id, _anchor="actions")


@blueprint.post("/<int:rt_id>/actions/<mode>/<action>")
def change_action(rt_id: int, mode: str, action: str) -> Response:
    """Move an action up or down its list, enable, disable or remove it."""
    run_template = _load(rt_id, access.WRITE)
    op = forms.text("op")
    actor = auth.current_principal()
    session = base.db()
    try:
        if op in ("up", "down"):
            step = -1 if op == "up" else 1
            actions.move_action(session, run_template.id, mode, action, step, actor=actor)
        elif op in ("enable", "disable"):
            enable = op == "enable"
            actions.set_enabled(session, run_template.id, mode, action, enable, actor=actor)
        elif op == "remove":
            actions.remove_action(session, run_template.id, mode, action, actor=actor)
        else:
            problem = _("op: one of %(ops)s", ops=", ".join(ACTION_OPS))
            return _page(run_template, 422, {forms.GENERAL: [problem]}, {}, f"actions-{mode}")
    except ValidationError as exc:
        session.rollback()
        return _page(_load(rt_id), 422, _action_problems(exc, mode, action), {}, f"actions-{mode}")
    done = {
        "remove": _("Action removed."),
        "enable": _("Action enabled."),
        "disable": _("Action disabled."),
    }
    flash(done.get(op, _("Action moved.")))
    return base.see(".detail", rt_id=rt_id, _anchor="actions")


@blueprint.post("/<int:rt_id>/active")
def activate(rt_id: int) -> Response:
    """Activate (refused, naming them, while required values are missing) or deactivate."""
    run_template = _load(rt_id, access.WRITE)
    active = request.form.get("active") == "1"
    try:
        runtemplates.set_active(base.db(), run_template.id, active, actor=auth.current_principal())
    except MissingRequired as exc:
        base.db().rollback()
        message = _(
            "Not activated: required values are missing: %(names)s.", names=", ".join(exc.missing)
        )
        return _page(_load(rt_id), 422, {"active": [message]}, {}, "header")
    flash(_("Activated.") if active else _("Deactivated."))
    return base.see(".detail", rt_id=rt_id)


@blueprint.post("/<int:rt_id>/clone")
def clone(rt_id: int) -> Response:
    """A copy in the same company, inactive until someone activates it."""
    run_template = _load(rt_id, access.WRITE)
    name = forms.optional_text("clone_name")
    try:
        copy = runtemplates.clone(
            base.db(), run_template.id, actor=auth.current_principal(), name=name
        )
    except ValidationError as exc:
        base.db().rollback()
        problems = {"clone_name": exc.for_field("name") or [exc.summary]}
        return _page(_load(rt_id), 422, problems, {"clone_name": name or ""}, "clone")
    except Conflict as exc:
        base.db().rollback()
        problems = {"clone_name": [exc.message]}
        return _page(_load(rt_id), 409, problems, {"clone_name": name or ""}, "clone")
    flash(_("Cloned as %(name)s (inactive).", name=repr(copy.name)))
    return base.see(".detail", rt_id=copy.id)


@blueprint.route("/<int:rt_id>/delete", methods=["GET", "POST"])
def delete(rt_id: int) -> Response:
    """A confirmation page that says what goes with it, then the deletion."""
    run_template = _load(rt_id, access.WRITE)
    if request.method == "GET":
        found = jobs.list_jobs(base.db(), run_template_id=run_template.id, limit=1)
        return base.render("web/runtemplates/delete.html", rt=run_template, job_count=found.total)
    company_id = run_template.company_id
    name = run_template.name
    runtemplates.delete(base.db(), run_template.id, actor=auth.current_principal())
    flash(_("Run template %(name)s deleted with its jobs.", name=repr(name)))
    return base.see(".index", company=company_id)


# -- launch -------------------------------------------------------------------------------


def _launch_page(
    run_template: RunTemplate,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, str] | None = None,
) -> Response:
    missing = jobenv.missing_required(base.db(), run_template)
    fields = run_template.application.fields
    return base.render(
        "web/runtemplates/launch.html",
        status=status,
        rt=run_template,
        asked=[f for f in fields if f.name in missing],
        optional=[f for f in fields if f.name not in missing],
        widget=_launch_widget,
        options=_launch_options,
        problems=problems or {},
        sent=sent or {},
        zone=server_app.settings_of(current_app).timezone,
    )


def _launch_widget(field: ApplicationField) -> str:
    """At launch a yes/no field is a choice of the two (an unticked box would send nothing)."""
    kind = forms.field_widget(field)
    return "select" if kind == "checkbox" else kind


def _launch_options(field: ApplicationField) -> list[tuple[str, str]]:
    if forms.field_widget(field) == "checkbox":
        return [("true", _("yes")), ("false", _("no"))]
    return forms.field_options(field)


@blueprint.route("/<int:rt_id>/launch", methods=["GET", "POST"])
def launch(rt_id: int) -> Response:
    """Launch now or at a time (in the installation's zone) with one-time values; the
    required ones nothing fills are asked for here, secret ones masked."""
    run_template = _load(rt_id, access.WRITE)
    if request.method == "GET":
        return _launch_page(run_template)
    secret = {f.name for f in run_template.application.fields if f.is_secret}
    overrides = {
        key[len(OVERRIDES) :]: value
        for key, value in request.form.items()
        if key.startswith(OVERRIDES) and value != ""
    }
    sent = {OVERRIDES + k: v for k, v in overrides.items() if k not in secret} | {
        "when": forms.text("when"),
        "at": forms.text("at"),
    }
    problems: dict[str, list[str]] = {}
    at = _local_time("at", problems) if forms.text("when") == "at" else None
    if problems:
        return _launch_page(run_template, 422, problems, sent)
    try:
        job = jobs.launch(
            base.db(),
            run_template.id,
            actor=auth.current_principal(),
            overrides=overrides,
            secret_overrides=sorted(set(overrides) & secret),
            at=at,
            schedule_type="adhoc-web",
        )
    except ValidationError as exc:
        base.db().rollback()
        return _launch_page(_load(rt_id), 422, forms.form_problems(exc), sent)
    except Conflict as exc:
        base.db().rollback()
        return _launch_page(_load(rt_id), 409, {forms.GENERAL: [exc.message]}, sent)
    if at is None:
        flash(_("Job %(id)s launched.", id=job.id))
    else:
        flash(_("Job %(id)s scheduled.", id=job.id))
    return redirect(f"/jobs/{job.id}", code=303)  # type: ignore[return-value]


def _local_time(name: str, problems: dict[str, list[str]]) -> dt.datetime | None:
    """A date-time input (no zone) read in the installation's zone."""
    text = forms.text(name)
    if not text:
        problems[name] = [_("give the date and time to launch at")]
        return None
    try:
        wall = dt.datetime.fromisoformat(text)
    except ValueError:
        problems[name] = [_("%(text)s is not a date and time (YYYY-MM-DDTHH:MM)", text=repr(text))]
        return None
    return wall if wall.tzinfo else wall.replace(tzinfo=base.zone())


__all__ = ["blueprint"]
