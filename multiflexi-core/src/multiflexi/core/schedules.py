"""When a run template runs: occurrences, previews and the catch-up rule.

A :class:`Schedule` is an interval code (the original's ``n i h d w m y c``), a cron
expression for ``c``, a delay in seconds and an IANA time zone. Everything here is
pure computation; every datetime that goes in must be timezone-aware and every
datetime that comes out is aware and in UTC.

How time is counted
-------------------
* ``i`` (every minute) and ``h`` (every hour) are fixed periods of real time: a tick
  is every instant at which the zone's clock shows a full minute (or hour). A
  fall-back night therefore has 25 hourly runs and a spring-forward night 23.
* ``d`` (00:00), ``w`` (Monday 00:00), ``m`` (the 1st, 00:00), ``y`` (1 January 00:00)
  and cron expressions are wall-clock times in the zone:

  - a wall time that does not exist (skipped by spring-forward) runs once, at the
    first instant after the gap (several skipped times collapse into that one run);
  - a wall time that exists twice (repeated by fall-back) runs once, at its first
    occurrence.

* The delay is a duration added to every tick in real time
  (occurrence = tick + delay). ``d`` with a delay of 7200 s is "daily at 02:00"
  except on a night whose midnight-to-02:00 stretch crosses a DST change.

Cron expressions are computed by croniter on naive wall-clock times; this module
maps those wall times to real instants itself (with :mod:`zoneinfo`), which is what
gives the rules above.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from multiflexi.core.errors import FieldError, ValidationError
from multiflexi.core.texts import Message, msg

if TYPE_CHECKING:
    # croniter is imported where a cron expression is first met: the settings import
    # this module (system_timezone_name), and most commands meet no cron expression
    from croniter import croniter

UTC = dt.UTC

#: interval code -> the name the original uses for it (also job.schedule_type)
INTERVAL_NAMES: Mapping[str, str] = {
    "n": "disabled",
    "i": "minutly",  # sic: the original's spelling, kept for job.schedule_type
    "h": "hourly",
    "d": "daily",
    "w": "weekly",
    "m": "monthly",
    "y": "yearly",
    "c": "custom",
}
#: interval code -> how a page names it (the original's interval select)
INTERVAL_LABELS: Mapping[str, str] = {
    "n": "Disabled (manual)",
    "i": "Minutely",
    "h": "Hourly",
    "d": "Daily",
    "w": "Weekly",
    "m": "Monthly",
    "y": "Yearly",
    "c": "Custom (cron)",
}
#: interval code -> the cron expression the original's scheduler uses for it
INTERVAL_CRON: Mapping[str, str] = {
    "i": "* * * * *",
    "h": "0 * * * *",
    "d": "0 0 * * *",
    "w": "0 0 * * 1",
    "m": "0 0 1 * *",
    "y": "0 0 1 1 *",
}
#: at most this many missed occurrences are listed by :func:`due` (the most recent ones)
MISSED_LIMIT = 1000
#: :func:`preview` returns at most this many occurrences
PREVIEW_LIMIT = 1000
#: the longest accepted delay: 366 days
MAX_DELAY = 366 * 86400

_CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIXED_PERIODS = {"i": 60, "h": 3600}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_TICK = dt.timedelta(microseconds=1)
_ZONEINFO_DIR = re.compile(r"(?:^|/)zoneinfo/(?:posix/|right/)?(?P<key>.+)$")


def interval_name(code: str) -> str:
    """The original's name of an interval code (``"i"`` -> ``"minutly"``)."""
    try:
        return INTERVAL_NAMES[code]
    except KeyError:
        raise ValidationError(msg("invalid schedule"), [_unknown_code(code)]) from None


def interval_code(code_or_name: str) -> str:
    """The code for a code or a name (``"daily"``, ``"d"`` and ``"minutely"`` are understood)."""
    text = code_or_name.strip().lower()
    if text in INTERVAL_NAMES:
        return text
    for code, name in INTERVAL_NAMES.items():
        if text == name:
            return code
    if text == "minutely":
        return "i"
    raise ValidationError(msg("invalid schedule"), [_unknown_code(code_or_name)])


def _unknown_code(code: object) -> FieldError:
    # the run template's setting (and the API's request field) is interval_code
    known = ", ".join(INTERVAL_NAMES)
    return FieldError(
        "interval_code",
        msg("unknown code {code!r} (expected one of {known})", code=code, known=known),
        "interval",
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a run template runs. Construction validates every field.

    ``interval`` is a code of :data:`INTERVAL_NAMES`; ``cron`` is a 5-field cron
    expression (or an alias such as ``@daily``), required for ``c`` and refused
    otherwise; ``delay`` is whole seconds >= 0 added to each tick; ``timezone`` is
    an IANA zone name.
    """

    interval: str
    cron: str | None = None
    delay: int = 0
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        if self.interval not in INTERVAL_NAMES:
            errors.append(_unknown_code(self.interval))
        if self.interval == "c":
            if not self.cron or not str(self.cron).strip():
                errors.append(FieldError("cron", msg("required when the interval is 'c' (custom)")))
            else:
                problem = _cron_problem(self.cron)
                if problem:
                    errors.append(FieldError("cron", problem))
        elif self.cron is not None and self.interval in INTERVAL_NAMES:
            errors.append(
                FieldError(
                    "cron",
                    msg(
                        "only used with interval 'c', not with {interval!r}", interval=self.interval
                    ),
                )
            )
        if isinstance(self.delay, bool) or not isinstance(self.delay, int):
            errors.append(
                FieldError(
                    "delay",
                    msg("must be a whole number of seconds, not {delay!r}", delay=self.delay),
                )
            )
        elif not 0 <= self.delay <= MAX_DELAY:
            errors.append(
                FieldError(
                    "delay",
                    msg(
                        "must be between 0 and {max_delay} seconds, not {delay}",
                        max_delay=MAX_DELAY,
                        delay=self.delay,
                    ),
                )
            )
        if _zone_or_none(self.timezone) is None:
            errors.append(
                FieldError(
                    "timezone", msg("unknown time zone {timezone!r}", timezone=self.timezone)
                )
            )
        if errors:
            raise ValidationError(msg("invalid schedule"), errors)

    @classmethod
    def build(
        cls,
        interval: str,
        cron: str | None = None,
        delay: int | None = 0,
        timezone: str | None = None,
        *,
        default_timezone: str,
    ) -> Schedule:
        """A schedule from stored or submitted fields.

        ``interval`` may be a code or the original's name; an empty ``cron`` counts as
        none; ``delay`` None counts as 0; ``timezone`` None or empty means
        ``default_timezone`` (the caller passes MULTIFLEXI_TIMEZONE or
        :func:`system_timezone_name`).
        """
        code = interval_code(interval) if isinstance(interval, str) else interval
        expression = cron.strip() if isinstance(cron, str) else cron
        return cls(
            interval=code,
            cron=expression or None,
            delay=0 if delay is None else delay,
            timezone=timezone or default_timezone,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def enabled(self) -> bool:
        return self.interval != "n"

    @property
    def schedule_type(self) -> str:
        """The original's name of the interval (job.schedule_type)."""
        return INTERVAL_NAMES[self.interval]


class Due(NamedTuple):
    """What :func:`due` decided: the occurrence to plan and the ones given up."""

    run_at: dt.datetime | None
    missed: list[dt.datetime]


# --- time zones ------------------------------------------------------------------


def _zone_or_none(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _zone_key_from_path(path: str) -> str | None:
    match = _ZONEINFO_DIR.search(path)
    if match and _zone_or_none(match["key"]) is not None:
        return match["key"]
    return None


def system_timezone_name(
    environ: Mapping[str, str] | None = None,
    etc_timezone: Path = Path("/etc/timezone"),
    etc_localtime: Path = Path("/etc/localtime"),
) -> str:
    """The IANA name of this machine's zone: TZ, /etc/timezone, the /etc/localtime link, else UTC.

    Each source is used only when it names a zone :mod:`zoneinfo` knows.
    """
    env = os.environ if environ is None else environ
    tz = env.get("TZ", "").strip().removeprefix(":")
    if tz:
        if _zone_or_none(tz) is not None:
            return tz
        key = _zone_key_from_path(tz)
        if key:
            return key
    try:
        name = etc_timezone.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    if name and _zone_or_none(name) is not None:
        return name
    try:
        target = os.readlink(etc_localtime)
    except OSError:
        target = ""
    key = _zone_key_from_path(target) if target else None
    return key or "UTC"


def as_utc(instant: dt.datetime, what: str = "now") -> dt.datetime:
    """``instant`` in UTC; a naive one (whose local time?) is a programming error."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {instant!r}")
    return instant.astimezone(UTC)


def now_or(now: dt.datetime | None) -> dt.datetime:
    """``now`` in UTC when a caller fixes it (tests, a batch's one moment), else the
    current time."""
    return dt.datetime.now(UTC) if now is None else as_utc(now)


def _wall(instant: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The naive wall-clock time in `zone` at a UTC instant."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _offset_seconds(instant: dt.datetime, zone: ZoneInfo) -> int:
    """The zone's UTC offset in force at a real instant, in seconds."""
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def _instant(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The real instant (UTC) at which a wall-clock time `wall` happens in `zone`.

    A repeated wall time gives its first occurrence; a skipped one gives the first
    instant after the gap.
    """
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == wall:
        return first
    # In a gap: fold=1 reads the wall time with the offset after the change, fold=0
    # with the one before, so the change itself lies between the two readings.
    low = _seconds(wall.replace(tzinfo=zone, fold=1).astimezone(UTC))
    high = _seconds(first)
    before = _offset_seconds(_at(low), zone)
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_seconds(_at(middle), zone) == before:
            low = middle
        else:
            high = middle
    return _at(high)


def _seconds(instant: dt.datetime) -> int:
    """Whole seconds since the epoch (rounded down)."""
    return (instant - _EPOCH) // dt.timedelta(seconds=1)


def _at(seconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=seconds)


# --- ticks of the calendar codes and of cron, on naive wall times -----------------


@functools.lru_cache(maxsize=4096)
def _cron_problem(expression: str) -> str | None:
    from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

    text = _CRON_ALIASES.get(expression.strip().lower(), expression.strip())
    fields = text.split()
    if len(fields) != 5:
        count = len(fields)
        return msg(
            "expected 5 fields (minute hour day month weekday), got {count} in {expression!r}",
            count=count,
            expression=expression,
        )
    if not croniter.is_valid(text):
        return msg("not a valid cron expression: {expression!r}", expression=expression)
    try:
        croniter(text, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except (CroniterBadDateError, CroniterBadCronError, CroniterError, ValueError):
        return msg("{expression!r} never matches a date", expression=expression)
    return None


@functools.lru_cache(maxsize=4096)
def _cron_template(expression: str) -> croniter:
    from croniter import croniter

    text = _CRON_ALIASES.get(expression.strip().lower(), expression.strip())
    return croniter(text, dt.datetime(2000, 1, 1), ret_type=dt.datetime)


def _cron_next(expression: str, wall: dt.datetime) -> dt.datetime:
    it = copy.copy(_cron_template(expression))
    it.set_current(wall, force=True)
    result: dt.datetime = it.get_next(dt.datetime)
    return result


def _cron_prev(expression: str, wall: dt.datetime) -> dt.datetime:
    it = copy.copy(_cron_template(expression))
    it.set_current(wall + _TICK, force=True)  # get_prev is strictly before its start
    result: dt.datetime = it.get_prev(dt.datetime)
    return result


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _calendar_next(code: str, wall: dt.datetime) -> dt.datetime:
    """The first tick of `code` strictly after `wall` (naive)."""
    day = wall.date()
    if code == "d":
        target = day + dt.timedelta(days=1)
    elif code == "w":
        target = day + dt.timedelta(days=7 - day.weekday())
    elif code == "m":
        target = _first_of_next_month(day)
    else:  # "y"
        target = dt.date(day.year + 1, 1, 1)
    return dt.datetime.combine(target, dt.time())


def _calendar_prev(code: str, wall: dt.datetime) -> dt.datetime:
    """The last tick of `code` at or before `wall` (naive)."""
    day = wall.date()
    if code == "d":
        target = day
    elif code == "w":
        target = day - dt.timedelta(days=day.weekday())
    elif code == "m":
        target = day.replace(day=1)
    else:  # "y"
        target = day.replace(month=1, day=1)
    return dt.datetime.combine(target, dt.time())


def _wall_next(schedule: Schedule, wall: dt.datetime) -> dt.datetime:
    if schedule.interval == "c":
        assert schedule.cron is not None
        return _cron_next(schedule.cron, wall)
    return _calendar_next(schedule.interval, wall)


def _wall_prev(schedule: Schedule, wall: dt.datetime) -> dt.datetime:
    if schedule.interval == "c":
        assert schedule.cron is not None
        return _cron_prev(schedule.cron, wall)
    return _calendar_prev(schedule.interval, wall)


def _fold_allowance(base: dt.datetime, zone: ZoneInfo) -> dt.timedelta:
    """How far the zone's clock stood ahead of its reading at `base` during the last day.

    Non-zero only just after a fall-back: wall times up to this much later than the
    clock at `base` may already have happened.
    """
    now = _offset_seconds(base, zone)
    highest = max(
        _offset_seconds(base - dt.timedelta(minutes=30 * step), zone) for step in range(1, 53)
    )
    return dt.timedelta(seconds=max(0, highest - now))


def _next_wall_tick(schedule: Schedule, zone: ZoneInfo, base: dt.datetime) -> dt.datetime:
    """The first wall-clock tick whose real instant is strictly after `base` (UTC)."""
    wall = _wall(base, zone)
    while True:
        wall = _wall_next(schedule, wall)
        instant = _instant(wall, zone)
        if instant > base:
            return instant


def _prev_wall_tick(schedule: Schedule, zone: ZoneInfo, base: dt.datetime) -> dt.datetime:
    """The last wall-clock tick whose real instant is at or before `base` (UTC)."""
    wall = _wall(base, zone) + _fold_allowance(base, zone)
    while True:
        wall = _wall_prev(schedule, wall)
        instant = _instant(wall, zone)
        if instant <= base:
            return instant
        wall -= _TICK


# --- ticks of the fixed periods (i, h), in real time ------------------------------


def _is_fixed_tick(instant: dt.datetime, zone: ZoneInfo, period: int) -> bool:
    local = _seconds(instant) + _offset_seconds(instant, zone)
    return instant.microsecond == 0 and local % period == 0


def _next_fixed_tick(period: int, zone: ZoneInfo, base: dt.datetime) -> dt.datetime:
    """The first instant after `base` at which the zone's clock shows a full period."""
    offset = _offset_seconds(base, zone)
    local = _seconds(base) + offset
    candidate = _at((local // period + 1) * period - offset)
    if _is_fixed_tick(candidate, zone, period):
        return candidate
    # The offset changed by a part of the period (e.g. a 30-minute DST shift): look
    # minute by minute for the next instant at which the clock shows a full period.
    probe = base.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    while not _is_fixed_tick(probe, zone, period):
        probe += dt.timedelta(minutes=1)
    return probe


def _prev_fixed_tick(period: int, zone: ZoneInfo, base: dt.datetime) -> dt.datetime:
    """The last instant at or before `base` at which the zone's clock shows a full period."""
    offset = _offset_seconds(base, zone)
    local = _seconds(base) + offset
    candidate = _at((local // period) * period - offset)
    if _is_fixed_tick(candidate, zone, period):
        return candidate
    probe = base.replace(second=0, microsecond=0)
    while not _is_fixed_tick(probe, zone, period):
        probe -= dt.timedelta(minutes=1)
    return probe


# --- the public computations ------------------------------------------------------


def next_after(schedule: Schedule, instant: dt.datetime) -> dt.datetime | None:
    """The first occurrence (tick + delay) strictly after `instant`, in UTC; None for ``n``."""
    moment = as_utc(instant, "instant")
    if not schedule.enabled:
        return None
    delay = dt.timedelta(seconds=schedule.delay)
    base = moment - delay
    period = _FIXED_PERIODS.get(schedule.interval)
    if period:
        tick = _next_fixed_tick(period, schedule.zone, base)
    else:
        tick = _next_wall_tick(schedule, schedule.zone, base)
    return tick + delay


def last_at_or_before(schedule: Schedule, instant: dt.datetime) -> dt.datetime | None:
    """The last occurrence (tick + delay) at or before `instant`, in UTC; None for ``n``."""
    moment = as_utc(instant, "instant")
    if not schedule.enabled:
        return None
    delay = dt.timedelta(seconds=schedule.delay)
    base = moment - delay
    period = _FIXED_PERIODS.get(schedule.interval)
    if period:
        tick = _prev_fixed_tick(period, schedule.zone, base)
    else:
        tick = _prev_wall_tick(schedule, schedule.zone, base)
    return tick + delay


def occurrences(schedule: Schedule, after: dt.datetime) -> Iterator[dt.datetime]:
    """Every occurrence strictly after `after`, in order (endless; nothing for ``n``)."""
    current = next_after(schedule, after)
    while current is not None:
        yield current
        current = next_after(schedule, current)


def preview(schedule: Schedule, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next `count` occurrences strictly after `after` (at most :data:`PREVIEW_LIMIT`)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= PREVIEW_LIMIT:
        raise ValidationError(
            msg("invalid preview"),
            [
                (
                    "count",
                    msg(
                        "must be a whole number from 0 to {preview_limit}",
                        preview_limit=PREVIEW_LIMIT,
                    ),
                )
            ],
        )
    as_utc(after, "after")
    result: list[dt.datetime] = []
    for occurrence in occurrences(schedule, after):
        if len(result) == count:
            break
        result.append(occurrence)
    return result


def due(schedule: Schedule, now: dt.datetime, last_planned: dt.datetime | None) -> Due:
    """What to plan next, with the catch-up rule of the original.

    `last_planned` is the occurrence most recently planned (None: never planned).
    Occurrences after `last_planned` and at or before `now` were missed: the latest
    of them is returned as ``run_at`` (it may lie in the past, and runs once) and
    the older ones as ``missed``, oldest first, at most :data:`MISSED_LIMIT` of them
    (the most recent ones; older misses are not listed). When nothing was missed
    (or the schedule was never planned) ``run_at`` is the next occurrence after
    `now` (or after `last_planned`, when that is later). ``n`` gives (None, []).
    """
    moment = as_utc(now, "now")
    if not schedule.enabled:
        return Due(None, [])
    if last_planned is None:
        return Due(next_after(schedule, moment), [])
    planned = as_utc(last_planned, "last_planned")
    latest = last_at_or_before(schedule, moment)
    if latest is None or latest <= planned:
        return Due(next_after(schedule, max(moment, planned)), [])
    missed: list[dt.datetime] = []
    cursor = latest
    while len(missed) < MISSED_LIMIT:
        earlier = last_at_or_before(schedule, cursor - _TICK)
        if earlier is None or earlier <= planned:
            break
        missed.append(earlier)
        cursor = earlier
    missed.reverse()
    return Due(latest, missed)


# --- deadline offsets -------------------------------------------------------------

#: the forms a run template's ``deadline_offset`` takes, for messages
DEADLINE_OFFSET_FORMS = (
    "+<n>h, +<n>m or +<n>s (that long after the window starts, e.g. +3h or +30m) "
    "or HH:MM (that time of day on the window's first day, e.g. 08:00)"
)
#: the longest relative deadline offset (as the longest delay)
MAX_DEADLINE_OFFSET = dt.timedelta(seconds=MAX_DELAY)
_RELATIVE_DEADLINE = re.compile(r"\+(\d{1,12})([hms])")
_CLOCK_DEADLINE = re.compile(r"(\d{1,2}):(\d{2})")
_DEADLINE_UNITS = {"h": 3600, "m": 60, "s": 1}


def deadline_offset(text: str) -> dt.timedelta | dt.time:
    """A run template's deadline offset: a duration after the window start, or a time of day.

    The original's forms (its ``Task::computeDeadline``): ``+<n>h``, ``+<n>m`` or
    ``+<n>s`` (``n`` a whole number >= 1, at most 366 days in all) give a
    :class:`~datetime.timedelta`; ``H:MM`` or ``HH:MM`` (00:00 to 23:59) gives a
    :class:`~datetime.time`. Anything else raises ``ValueError`` saying which forms
    are accepted (the original silently used the window's end instead).
    """
    return _parse_deadline_offset(text)[0]


def normalised_deadline_offset(text: str | None) -> str | None:
    """``text`` checked by :func:`deadline_offset` and written one way (``8:00`` -> ``08:00``,
    ``+03h`` -> ``+3h``); None or blank means no offset (the deadline is the window's end)."""
    if text is None or not text.strip():
        return None
    return _parse_deadline_offset(text)[1]


def _parse_deadline_offset(text: str) -> tuple[dt.timedelta | dt.time, str]:
    value = text.strip()
    relative = _RELATIVE_DEADLINE.fullmatch(value)
    if relative:
        number, unit = int(relative.group(1)), relative.group(2)
        seconds = number * _DEADLINE_UNITS[unit]
        if seconds < 1:
            raise ValueError(f"{text!r} is no time after the window starts (use at least +1s)")
        if seconds > MAX_DEADLINE_OFFSET.total_seconds():
            raise ValueError(f"{text!r} is more than 366 days after the window starts")
        return dt.timedelta(seconds=seconds), f"+{number}{unit}"
    clock = _CLOCK_DEADLINE.fullmatch(value)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
        return dt.time(hour, minute), f"{hour:02d}:{minute:02d}"
    raise ValueError(f"{text!r} is not a deadline offset: use {DEADLINE_OFFSET_FORMS}")


# --- words ------------------------------------------------------------------------

#: "every <weekday> at <time> (<zone>)", Monday first (one text each: languages say
#: "every" differently for each day)
_WEEKLY = (
    lambda **p: msg("every Monday at {time} ({zone})", **p),
    lambda **p: msg("every Tuesday at {time} ({zone})", **p),
    lambda **p: msg("every Wednesday at {time} ({zone})", **p),
    lambda **p: msg("every Thursday at {time} ({zone})", **p),
    lambda **p: msg("every Friday at {time} ({zone})", **p),
    lambda **p: msg("every Saturday at {time} ({zone})", **p),
    lambda **p: msg("every Sunday at {time} ({zone})", **p),
)
#: "<interval> at <cron expression> (<zone>)": a calendar interval whose delay reaches
#: past its period (the original's name of the interval, then its cron expression)
_BY_CRON = {
    "d": lambda **p: msg("daily at {cron} ({zone}){delayed}", **p),
    "w": lambda **p: msg("weekly at {cron} ({zone}){delayed}", **p),
    "m": lambda **p: msg("monthly at {cron} ({zone}){delayed}", **p),
    "y": lambda **p: msg("yearly at {cron} ({zone}){delayed}", **p),
}


def _duration(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def describe(schedule: Schedule) -> Message:
    """A short human description, e.g. ``every day at 02:00 (Europe/Prague)``.

    A :class:`~multiflexi.core.texts.Message`: English as a str, translatable by a face.
    """
    code, delay, zone = schedule.interval, schedule.delay, schedule.timezone
    days, within_day = divmod(delay, 86400)
    time = _clock(within_day)
    delayed: str = msg(", delayed by {delay}", delay=_duration(delay)) if delay else ""
    if code == "n":
        return msg("never (disabled)")
    if code == "i":
        return msg("every minute{delayed}", delayed=delayed)
    if code == "h":
        if delay < 3600 and delay % 60 == 0:
            return msg("every hour at :{minute:02d}", minute=delay // 60)
        return msg("every hour{delayed}", delayed=delayed)
    if code == "d" and days == 0:
        return msg("every day at {time} ({zone})", time=time, zone=zone)
    if code == "w" and days < 7:
        return _WEEKLY[days](time=time, zone=zone)
    if code == "m" and days < 28:
        return msg(
            "every month on day {day} at {time} ({zone})", day=days + 1, time=time, zone=zone
        )
    if code == "y" and days < 31:
        return msg(
            "every year on {day} January at {time} ({zone})", day=days + 1, time=time, zone=zone
        )
    if code == "c":
        return msg("cron {cron} ({zone}){delayed}", cron=schedule.cron, zone=zone, delayed=delayed)
    return _BY_CRON[code](cron=INTERVAL_CRON[code], zone=zone, delayed=delayed)


__all__ = [
    "DEADLINE_OFFSET_FORMS",
    "INTERVAL_CRON",
    "INTERVAL_LABELS",
    "INTERVAL_NAMES",
    "MAX_DEADLINE_OFFSET",
    "MAX_DELAY",
    "MISSED_LIMIT",
    "PREVIEW_LIMIT",
    "Due",
    "Schedule",
    "deadline_offset",
    "describe",
    "due",
    "interval_code",
    "interval_name",
    "last_at_or_before",
    "next_after",
    "normalised_deadline_offset",
    "occurrences",
    "preview",
    "system_timezone_name",
]
