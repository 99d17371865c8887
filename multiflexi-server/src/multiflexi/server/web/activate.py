"""The activation wizard: one page a step, company → application → run template →
credentials → configuration → schedule and actions → summary and activate.

The first two steps write nothing: the choice travels in the address
(``/activate?company_id=&app_id=``). The third creates the run template inactive
through the core's ``runtemplates.create`` (the API's call); from then on each step is
``/activate/<rt_id>/<step>`` and saves through the core call the run template page
uses, so abandoning the wizard leaves an inactive run template that says what it
misses (``activation.gaps``). The rules (who may, what is missing, what a step checks)
are in :mod:`multiflexi.core.activation`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from multiflexi.core import (
    access,
    actions,
    activation,
    apps,
    companies,
    loaders,
    rtoverview,
    runtemplates,
    schedules,
)
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.models import Application, Company, RunTemplate
from multiflexi.server import auth
from multiflexi.server.web import base, forms, i18n
from multiflexi.server.web.base import link_if, page_error

blueprint = Blueprint("activate", __name__, url_prefix="/activate")

#: each step's name in the step indicator
STEP_LABELS = {
    "company": lazy_gettext("Company"),
    "application": lazy_gettext("Application"),
    "runtemplate": lazy_gettext("Run template"),
    "credentials": lazy_gettext("Credentials"),
    "configuration": lazy_gettext("Configuration"),
    "schedule": lazy_gettext("Schedule and actions"),
    "summary": lazy_gettext("Summary"),
}
#: the interval codes' names (the core's INTERVAL_LABELS, translated)
INTERVALS = {
    "n": lazy_gettext("Manual (only when launched)"),
    "i": lazy_gettext("Every minute"),
    "h": lazy_gettext("Hourly"),
    "d": lazy_gettext("Daily"),
    "w": lazy_gettext("Weekly"),
    "m": lazy_gettext("Monthly"),
    "y": lazy_gettext("Yearly"),
    "c": lazy_gettext("Custom (cron)"),
}
#: the executors a run template may name, as choices
EXECUTORS = [(name, name) for name in runtemplates.EXECUTORS]
#: occurrences the schedule step previews
PREVIEW_COUNT = 5
#: the schedule settings the schedule step sends
SCHEDULE_FIELDS = ("interval_code", "cron", "timezone", "delay")
#: the prefix of a credential choice (``credentials.CODE``, a required kind)
CREDENTIALS = "credentials."


# -- the steps and their order ----------------------------------------------------------------


def _needs_credentials(run_template: RunTemplate) -> bool:
    return bool(run_template.application.requirements)


def _skipped(run_template: RunTemplate | None, step: str) -> bool:
    """An application that needs no credential skips that step (shown as done)."""
    return (
        step == "credentials" and run_template is not None and not _needs_credentials(run_template)
    )


def _neighbour(run_template: RunTemplate, step: str, by: int) -> str | None:
    """The step after (``by`` 1) or before (-1) ``step`` among the run template's steps."""
    steps = [s for s in activation.RUN_TEMPLATE_STEPS if not _skipped(run_template, s)]
    at = steps.index(step) + by
    return steps[at] if 0 <= at < len(steps) else None


def _step_url(run_template: RunTemplate, step: str) -> str:
    return url_for(f".{step}", rt_id=run_template.id)


def _indicator(
    current: str,
    run_template: RunTemplate | None = None,
    company: Company | None = None,
    app: Application | None = None,
) -> list[dict[str, Any]]:
    """The step indicator: each step with its state (done, current, to do, skipped) and
    the address to go back to it (steps before the run template exists are not
    revisited once it does: another application means another run template)."""
    order = activation.STEPS.index(current)
    items = []
    for index, step in enumerate(activation.STEPS):
        state = "done" if index < order else ("current" if index == order else "todo")
        if _skipped(run_template, step):
            state = "skipped"
        link = None
        if run_template is not None and step in activation.RUN_TEMPLATE_STEPS:
            link = _step_url(run_template, step) if state in ("done", "todo") else None
        elif run_template is None and state == "done":
            if step == "company":
                link = url_for(".start", at="company", company_id=company and company.id)
            elif step == "application" and company is not None:
                link = url_for(
                    ".start", at="application", company_id=company.id, app_id=app and app.id
                )
        items.append(
            {"step": step, "label": STEP_LABELS[step], "state": state, "url": link, "n": index + 1}
        )
    return items


def _load(rt_id: int) -> RunTemplate:
    """The run template a step works on: the user must be able to change it (a viewer
    403, no role in its company 404)."""
    return loaders.run_template(base.db(), auth.current_principal(), rt_id, access.WRITE)


def _step_page(
    step: str,
    run_template: RunTemplate,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    previous = _neighbour(run_template, step, -1)
    return base.render(
        f"web/activate/{step}.html",
        status=status,
        step=step,
        steps=_indicator(step, run_template),
        rt=run_template,
        company=run_template.company,
        app=run_template.application,
        problems=problems or {},
        sent=sent or {},
        back=_step_url(run_template, previous) if previous else None,
        **context,
    )


# -- steps 1 to 3: company, application, a new run template ----------------------------------


def _company(company_id: int) -> Company:
    return loaders.company(base.db(), auth.current_principal(), company_id, access.WRITE)


def _application(app_id: int) -> Application:
    app = apps.get(base.db(), app_id)
    if not app.enabled:
        raise NotFound("application", app_id)
    return app


@blueprint.get("")
def start() -> Response:
    """Steps 1 to 3 before anything is written: ``at`` says which one to show (else the
    first whose choice is not in the address); a step's Next sends its choice and the
    next step's name, and a missing choice is shown beside the choices (422)."""
    principal = auth.current_principal()
    offered = activation.writable_companies(base.db(), principal)
    if not offered:
        return page_error(
            403,
            _("No company to activate for"),
            _(
                "Activating an application needs the manager or administrator role in a "
                "company; you have neither in any company."
            ),
        )
    company_id = request.args.get("company_id", type=int)
    app_id = request.args.get("app_id", type=int)
    company = _company(company_id) if company_id is not None else None
    app = _application(app_id) if app_id is not None else None
    at = request.args.get("at") or (
        "runtemplate" if app and company else "application" if company else "company"
    )
    if at not in ("company", "application", "runtemplate"):
        at = "company"
    if at in ("application", "runtemplate") and company is None:
        problems = {"company_id": [_("Choose a company.")]}
        return _company_step(offered, None, 422, problems)
    if at == "runtemplate" and app is None:
        assert company is not None
        problems = {"app_id": [_("Choose an application.")]}
        return _application_step(company, None, 422, problems)
    if at == "company":
        return _company_step(offered, company)
    assert company is not None
    if at == "application":
        return _application_step(company, app)
    assert app is not None
    return _new_step(company, app, activation.proposal(base.db(), company.id, app))


def _company_step(
    offered: list[Company],
    chosen: Company | None,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
) -> Response:
    chosen = chosen or offered[0]  # a choice is always made: Next never sends nothing
    return base.render(
        "web/activate/company.html",
        status=status,
        step="company",
        steps=_indicator("company"),
        companies=offered,
        chosen=chosen,
        problems=problems or {},
    )


def _application_step(
    company: Company,
    chosen: Application | None,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
) -> Response:
    choices = activation.catalogue(base.db(), company.id, i18n.current_language())
    if chosen is None and choices:
        chosen = choices[0].application  # an assigned one when there is one
    return base.render(
        "web/activate/application.html",
        status=status,
        step="application",
        steps=_indicator("application", company=company),
        company=company,
        choices=choices,
        chosen=chosen,
        problems=problems or {},
    )


def _new_step(
    company: Company,
    app: Application,
    sent: dict[str, str],
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
) -> Response:
    return base.render(
        "web/activate/runtemplate.html",
        status=status,
        step="runtemplate",
        steps=_indicator("runtemplate", company=company, app=app),
        rt=None,
        company=company,
        app=app,
        assigned=companies.is_assigned(base.db(), company.id, app.id),
        executors=EXECUTORS,
        sent=sent,
        problems=problems or {},
        back=url_for(".start", at="application", company_id=company.id, app_id=app.id),
    )


def _run_template_form() -> tuple[dict[str, str], dict[str, Any]]:
    sent = {name: forms.text(name) for name in ("name", "executor", "note")}
    changes: dict[str, Any] = {
        "name": sent["name"] or None,
        "executor": sent["executor"] or "native",
        "note": sent["note"] or None,
    }
    return sent, changes


@blueprint.post("")
def create() -> Response:
    """Step 3: the run template, inactive (the core assigns the application to the
    company when it was not, and the page says so)."""
    company = _company(request.form.get("company_id", type=int) or 0)
    app = _application(request.form.get("app_id", type=int) or 0)
    sent, changes = _run_template_form()
    try:
        made = runtemplates.create(
            base.db(),
            company=company.id,
            app_id=app.id,
            actor=auth.current_principal(),
            active=False,
            **changes,
        )
    except ValidationError as exc:
        base.db().rollback()
        return _new_step(company, app, sent, 422, forms.form_problems(exc))
    except Conflict as exc:
        base.db().rollback()
        return _new_step(company, app, sent, 409, {"name": [exc.message]})
    flash(_("Run template %(name)s created (inactive until the last step).", name=made.name))
    if made.assigned_application:
        flash(
            _(
                "Application %(app)s is now assigned to %(company)s.",
                app=app.name,
                company=company.name,
            )
        )
    following = _neighbour(made, "runtemplate", 1)
    assert following is not None
    return base.see(f".{following}", rt_id=made.id)


@blueprint.route("/<int:rt_id>/runtemplate", methods=["GET", "POST"])
def runtemplate(rt_id: int) -> Response:
    """Step 3 again (Back): the run template's name, executor and note."""
    run_template = _load(rt_id)
    context: dict[str, Any] = {"executors": EXECUTORS, "assigned": True}
    if request.method == "GET":
        sent = {
            "name": run_template.name,
            "executor": run_template.executor,
            "note": run_template.note or "",
        }
        return _step_page("runtemplate", run_template, sent=sent, **context)
    sent, changes = _run_template_form()
    changes["name"] = changes["name"] or run_template.name
    try:
        runtemplates.update(base.db(), run_template.id, changes, actor=auth.current_principal())
    except ValidationError as exc:
        base.db().rollback()
        return _step_page(
            "runtemplate", _load(rt_id), 422, forms.form_problems(exc), sent, **context
        )
    except Conflict as exc:
        base.db().rollback()
        return _step_page(
            "runtemplate", _load(rt_id), 409, {"name": [exc.message]}, sent, **context
        )
    return base.see(f".{_neighbour(run_template, 'runtemplate', 1)}", rt_id=rt_id)


# -- step 4: credentials ---------------------------------------------------------------------


def _requirements(run_template: RunTemplate) -> list[dict[str, Any]]:
    """Each required kind with the company's credentials of it and where to make one."""
    session = base.db()
    found = []
    for requirement in rtoverview.credential_choices(session, run_template):
        if requirement.code is None:
            continue
        types = activation.credential_types_of(session, run_template.company_id, requirement.code)
        new = link_if(
            "web.credentials.new",
            company_id=run_template.company_id,
            type_id=types[0].id if types else None,
            next=url_for(".credentials", rt_id=run_template.id),
        )
        found.append({"requirement": requirement, "types": types, "new": new})
    return found


@blueprint.route("/<int:rt_id>/credentials", methods=["GET", "POST"])
def credentials(rt_id: int) -> Response:
    """Step 4: one of the company's credentials for each kind the application requires."""
    run_template = _load(rt_id)
    if not _needs_credentials(run_template):
        return base.see(f".{_neighbour(run_template, 'runtemplate', 1)}", rt_id=rt_id)
    if request.method == "GET":
        return _step_page("credentials", run_template, requirements=_requirements(run_template))
    chosen: dict[str, int] = {}
    problems: dict[str, list[str]] = {}
    for item in _requirements(run_template):
        requirement = item["requirement"]
        name = CREDENTIALS + requirement.code
        offered = {c.credential.id for c in requirement.candidates}
        if not offered:
            continue  # nothing to choose from yet: the summary says it is missing
        pick = request.form.get(name, type=int)
        if pick is None:
            problems[name] = [_("Choose a credential of this kind.")]
        elif pick not in offered:
            problems[name] = [_("Choose one of the company's credentials of this kind.")]
        else:
            chosen[name] = pick
    if problems:
        return _step_page(
            "credentials",
            run_template,
            422,
            problems,
            {k: str(v) for k, v in chosen.items()},
            requirements=_requirements(run_template),
        )
    actor = auth.current_principal()
    for credential_id in chosen.values():
        runtemplates.bind_credential(base.db(), run_template.id, credential_id, actor=actor)
    return base.see(f".{_neighbour(run_template, 'credentials', 1)}", rt_id=rt_id)


# -- step 5: configuration -------------------------------------------------------------------


def _configuration_form(run_template: RunTemplate) -> dict[str, str | None]:
    """The values the form changes: a blank secret keeps the stored one; a blank value of
    another field removes the stored one (its default or another layer applies)."""
    stored = {v.name: v for v in run_template.values}
    values: dict[str, str | None] = {}
    for field in run_template.application.fields:
        name = field.name
        sent = request.form.get(forms.VALUES + name)
        if field.is_secret:
            if sent:
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
        new = sent.strip() or None
        old = stored[name].value if name in stored else None
        if new != old or (new is None and field.required):
            values[name] = new
    return values


def _configuration_page(
    run_template: RunTemplate,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    session = base.db()
    stored = {v.name: (None if v.key_id else v.value) for v in run_template.values}
    return _step_page(
        "configuration",
        run_template,
        status,
        problems,
        sent,
        fields=run_template.application.fields,
        stored=stored,
        sources=activation.sources(session, run_template),
        widget=forms.field_widget,
        options=forms.field_options,
    )


@blueprint.route("/<int:rt_id>/configuration", methods=["GET", "POST"])
def configuration(rt_id: int) -> Response:
    """Step 5: the application's fields; a required one must get a value unless the
    company or a bound credential gives it."""
    run_template = _load(rt_id)
    if request.method == "GET":
        return _configuration_page(run_template)
    values = _configuration_form(run_template)
    try:
        activation.configure(base.db(), run_template.id, values, actor=auth.current_principal())
    except ValidationError as exc:
        base.db().rollback()
        secret = {f.name for f in run_template.application.fields if f.is_secret}
        kept = {forms.VALUES + k: v for k, v in values.items() if v is not None and k not in secret}
        return _configuration_page(_load(rt_id), 422, forms.form_problems(exc), kept)
    return base.see(f".{_neighbour(run_template, 'configuration', 1)}", rt_id=rt_id)


# -- step 6: schedule and actions ------------------------------------------------------------


def _preview(settings: dict[str, Any]) -> tuple[str, list[Any], dict[str, list[str]]]:
    """The schedule in words and its next occurrences, or the problems of it."""
    try:
        description, occurrences = rtoverview.preview_schedule(
            base.db(),
            interval_code=settings.get("interval_code") or runtemplates.MANUAL,
            cron=settings.get("cron") or None,
            delay=settings.get("delay") or 0,
            timezone=settings.get("timezone") or None,
            count=PREVIEW_COUNT,
        )
    except ValidationError as exc:
        return "", [], forms.form_problems(exc)
    return description, occurrences, {}


def _schedule_page(
    run_template: RunTemplate,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    settings = sent or {name: getattr(run_template, name) for name in SCHEDULE_FIELDS}
    description, occurrences, invalid = _preview(settings if not problems else {})
    if problems:
        description, occurrences = "", []
    return _step_page(
        "schedule",
        run_template,
        status,
        problems,
        {k: ("" if v is None else v) for k, v in settings.items()},
        intervals=[
            (code, INTERVALS.get(code, label)) for code, label in schedules.INTERVAL_LABELS.items()
        ],
        zones=forms.time_zones(),
        default_zone=runtemplates.default_timezone(base.db()),
        description=description,
        occurrences=occurrences,
        preview_problems=invalid,
        action_lists=actions.list_actions(base.db(), auth.current_principal(), run_template.id),
    )


@blueprint.route("/<int:rt_id>/schedule", methods=["GET", "POST"])
def schedule(rt_id: int) -> Response:
    """Step 6: the interval or cron, the zone and the delay (previewed), and the actions
    after success and failure."""
    run_template = _load(rt_id)
    if request.method == "GET":
        return _schedule_page(run_template)
    sent = {name: forms.text(name) for name in SCHEDULE_FIELDS}
    changes: dict[str, Any] = {
        "interval_code": sent["interval_code"] or runtemplates.MANUAL,
        "cron": sent["cron"] or None,
        "timezone": sent["timezone"] or None,
    }
    problems: dict[str, list[str]] = {}
    try:
        changes["delay"] = int(sent["delay"] or 0)
    except ValueError:
        problems["delay"] = [_("%(text)s is not a whole number.", text=repr(sent["delay"]))]
    if problems:
        return _schedule_page(run_template, 422, problems, sent)
    if changes["interval_code"] != "c":
        changes["cron"] = None  # the expression counts only for the custom interval
    try:
        runtemplates.update(base.db(), run_template.id, changes, actor=auth.current_principal())
    except ValidationError as exc:
        base.db().rollback()
        return _schedule_page(_load(rt_id), 422, forms.form_problems(exc), sent)
    return base.see(".summary", rt_id=rt_id)


# -- step 7: summary and activation ----------------------------------------------------------


def _summary_page(
    run_template: RunTemplate, status: int = 200, problems: dict[str, list[str]] | None = None
) -> Response:
    session = base.db()
    settings = {name: getattr(run_template, name) for name in SCHEDULE_FIELDS}
    description, occurrences, invalid = _preview(settings)
    stored = {v.name: (None if v.key_id else v.value) for v in run_template.values}
    return _step_page(
        "summary",
        run_template,
        status,
        problems,
        gaps=activation.gaps(session, run_template),
        bound=[b.credential for b in run_template.credential_bindings],
        fields=run_template.application.fields,
        stored=stored,
        sources=activation.sources(session, run_template),
        description=description,
        occurrences=occurrences,
        preview_problems=invalid,
        action_lists=actions.list_actions(session, auth.current_principal(), run_template.id),
        launch=link_if("web.runtemplates.launch", rt_id=run_template.id),
    )


@blueprint.route("/<int:rt_id>/summary", methods=["GET", "POST"])
def summary(rt_id: int) -> Response:
    """Step 7: everything chosen, what is still missing (each linked to its step), and
    Activate; once active, Launch now."""
    run_template = _load(rt_id)
    if request.method == "GET":
        return _summary_page(run_template)
    try:
        activation.activate(base.db(), run_template.id, actor=auth.current_principal())
    except ValidationError as exc:
        base.db().rollback()
        return _summary_page(_load(rt_id), 422, forms.form_problems(exc))
    flash(_("Run template %(name)s is active.", name=run_template.name))
    return base.see(".summary", rt_id=rt_id)


__all__ = ["blueprint"]
