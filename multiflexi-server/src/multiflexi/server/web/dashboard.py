"""The dashboard: what ran, what failed, what runs next, and whether the scheduler,
the workers and Redis are alive.

One call of :func:`multiflexi.core.overview.dashboard` gives every number; this
module only lays them out (the chart's geometry, the links to the filtered job
list). With htmx the page refreshes its summary every 15 seconds
(``_summary.html``, the health banners swapped out of band).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext as _

from multiflexi.core import overview
from multiflexi.server import app as server_app
from multiflexi.server import auth
from multiflexi.server.web import base, htmx

blueprint = Blueprint("dashboard", __name__)

#: the job list's endpoint (another area); its path when that area is not installed
JOBS_ENDPOINT = "web.jobs.index"
JOBS_PATH = "/jobs"
#: the order of the count tiles; the first ones are shown even when zero
STATE_ORDER = (
    "success",
    "failed",
    "running",
    "queued",
    "waiting",
    "scheduled",
    "blocked",
    "lost",
    "cancelled",
    "missed",
)
ALWAYS_SHOWN = frozenset({"success", "failed", "running"})
#: the chart's drawing box (SVG user units): one bar per hour
BAR_WIDTH = 6
BAR_GAP = 1
CHART_HEIGHT = 120
#: a day shown with fewer hours than this has no label under the chart
MIN_LABELLED_HOURS = 8


def utc_text(instant: dt.datetime) -> str:
    """An instant as ISO 8601 in UTC with ``Z`` (what the job list's filters accept)."""
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jobs_link(**filters: Any) -> str:
    """The job list filtered so (``state``, ``since``, ``until`` ... as the list names them)."""
    params: dict[str, Any] = {
        name: utc_text(value) if isinstance(value, dt.datetime) else value
        for name, value in filters.items()
        if value is not None
    }
    if JOBS_ENDPOINT in current_app.view_functions:
        return url_for(JOBS_ENDPOINT, **params)
    return f"{JOBS_PATH}?{urlencode(params)}" if params else JOBS_PATH


@dataclasses.dataclass(frozen=True)
class Bar:
    hour: overview.Hour
    x: int
    ok_height: int
    fail_height: int
    label: str
    link: str


@dataclasses.dataclass(frozen=True)
class Day:
    """The hours of one local day in the chart: where they start, how many, its label."""

    x: int
    hours: int
    weekday: str
    date: str


@dataclasses.dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    days: list[Day]
    width: int
    height: int
    peak: int
    success: int
    failed: int


def local_text(instant: dt.datetime, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    """An instant as the installation's wall-clock time (its words in the page's language)."""
    return base.local_strftime(instant.astimezone(base.zone()), fmt)


def _chart(hours: list[overview.Hour]) -> Chart:
    zone = base.zone()
    peak = max((hour.total for hour in hours), default=0)
    step = BAR_WIDTH + BAR_GAP
    bars = []
    days: list[Day] = []
    for index, hour in enumerate(hours):
        x = index * step
        local = hour.start.astimezone(zone)
        if not days or local.date() != hours[index - 1].start.astimezone(zone).date():
            weekday = base.local_strftime(local, base.WEEKDAY)
            days.append(Day(x, 0, weekday, base.local_strftime(local, base.DAY_MONTH)))
        days[-1] = dataclasses.replace(days[-1], hours=days[-1].hours + 1)
        if not hour.total:
            continue
        ok = round(CHART_HEIGHT * hour.success / peak)
        fail = round(CHART_HEIGHT * hour.failed / peak)
        # a hour with jobs stays visible however tall the peak
        ok = max(ok, 1) if hour.success else 0
        fail = max(fail, 1) if hour.failed else 0
        span = base.local_strftime(local, "%a %d %b %H:%M")
        span = f"{span}-{hour.end.astimezone(zone):%H:%M}"
        label = _(
            "%(span)s: %(success)d succeeded, %(failed)d failed",
            span=span,
            success=hour.success,
            failed=hour.failed,
        )
        link = jobs_link(since=hour.start, until=hour.end)
        bars.append(Bar(hour, x, ok, fail, label, link))
    # a day with few hours in the chart is too narrow for its label
    days = [
        day if day.hours >= MIN_LABELLED_HOURS else dataclasses.replace(day, weekday="", date="")
        for day in days
    ]
    return Chart(
        bars=bars,
        days=days,
        width=len(hours) * step - BAR_GAP,
        height=CHART_HEIGHT,
        peak=peak,
        success=sum(hour.success for hour in hours),
        failed=sum(hour.failed for hour in hours),
    )


def _shown_states(counts: dict[str, int]) -> list[str]:
    return [state for state in STATE_ORDER if counts.get(state) or state in ALWAYS_SHOWN]


def _render(template: str, *, oob: bool = False) -> str:
    board = overview.dashboard(server_app.session(), auth.current_principal())
    return render_template(
        template,
        board=board,
        chart=_chart(board.hours),
        states=_shown_states(board.counts),
        jobs_link=jobs_link,
        utc_text=utc_text,
        local_text=local_text,
        bar_width=BAR_WIDTH,
        oob=oob,
    )


@blueprint.get("/")
def index() -> str:
    if htmx.is_partial():
        return _render("web/dashboard/_summary.html", oob=True)
    return _render("web/dashboard/index.html")
