"""Schedules: occurrences, DST, month ends, leap days, preview, catch-up, words."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from multiflexi.core.errors import ValidationError
from multiflexi.core.schedules import (
    INTERVAL_CRON,
    INTERVAL_NAMES,
    MISSED_LIMIT,
    Schedule,
    describe,
    due,
    interval_code,
    interval_name,
    last_at_or_before,
    next_after,
    preview,
    system_timezone_name,
)

UTC = dt.UTC
PRAGUE = "Europe/Prague"
NEW_YORK = "America/New_York"


def at(zone: str, *fields: int) -> dt.datetime:
    """An aware datetime from wall-clock fields in `zone` (first occurrence when repeated)."""
    return dt.datetime(*fields, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def utc(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


def wall(instant: dt.datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M%z")


def assert_utc(*instants: dt.datetime | None) -> None:
    for instant in instants:
        assert instant is not None
        assert instant.tzinfo is UTC


def local_day(schedule: Schedule, zone: str, *day: int) -> list[dt.datetime]:
    """Every occurrence during one local calendar day in `zone`."""
    start = at(zone, *day).astimezone(UTC)
    end = (at(zone, *day).replace(tzinfo=None) + dt.timedelta(days=1)).replace(
        tzinfo=ZoneInfo(zone)
    )
    found = []
    current = next_after(schedule, start - dt.timedelta(microseconds=1))
    while current is not None and current < end:
        found.append(current)
        current = next_after(schedule, current)
    return found


# --- codes and validation ---------------------------------------------------------


def test_the_original_interval_names_are_exposed_with_their_spelling():
    assert INTERVAL_NAMES == {
        "n": "disabled",
        "i": "minutly",
        "h": "hourly",
        "d": "daily",
        "w": "weekly",
        "m": "monthly",
        "y": "yearly",
        "c": "custom",
    }
    assert interval_name("i") == "minutly"
    assert interval_code("daily") == "d"
    assert interval_code("minutely") == "i"
    assert interval_code("W") == "w"
    assert Schedule("y").schedule_type == "yearly"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"interval": "x"}, "interval", "unknown code 'x'"),
        ({"interval": "c"}, "cron", "required"),
        ({"interval": "c", "cron": "   "}, "cron", "required"),
        ({"interval": "c", "cron": "0 2 * *"}, "cron", "expected 5 fields"),
        ({"interval": "c", "cron": "0 0 2 * * *"}, "cron", "expected 5 fields"),
        ({"interval": "c", "cron": "61 2 * * *"}, "cron", "not a valid cron"),
        ({"interval": "c", "cron": "0 0 30 2 *"}, "cron", "never matches"),
        ({"interval": "d", "cron": "0 2 * * *"}, "cron", "only used with interval 'c'"),
        ({"interval": "d", "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"interval": "d", "timezone": "../../etc/passwd"}, "timezone", "unknown time zone"),
        ({"interval": "d", "delay": -1}, "delay", "between 0 and"),
        ({"interval": "d", "delay": 1.5}, "delay", "whole number"),
    ],
)
def test_bad_schedule_fields_are_refused_naming_the_field(fields, field, words):
    with pytest.raises(ValidationError) as caught:
        Schedule(**fields)
    message = str(caught.value)
    assert f"{field}: " in message
    assert words in message
    assert "\n" not in message


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as caught:
        Schedule("c", cron=None, delay=-5, timezone="Nowhere/Land")
    assert [e.split(":")[0] for e in caught.value.errors] == ["cron", "delay", "timezone"]


def test_build_takes_stored_fields_and_the_default_zone():
    schedule = Schedule.build("daily", cron="", delay=None, timezone=None, default_timezone=PRAGUE)
    assert schedule == Schedule("d", None, 0, PRAGUE)
    assert Schedule.build("c", "  @daily ", 60, NEW_YORK, default_timezone=PRAGUE) == Schedule(
        "c", "@daily", 60, NEW_YORK
    )
    with pytest.raises(ValidationError, match="timezone: unknown time zone"):
        Schedule.build("d", default_timezone="Not/AZone")


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_after(Schedule("d"), dt.datetime(2025, 1, 1))


# --- disabled ---------------------------------------------------------------------


def test_n_never_runs():
    schedule = Schedule("n", timezone=PRAGUE)
    now = utc(2025, 1, 1)
    assert next_after(schedule, now) is None
    assert last_at_or_before(schedule, now) is None
    assert preview(schedule, now, 10) == []
    assert due(schedule, now, utc(2024, 1, 1)) == (None, [])
    assert due(schedule, now, None) == (None, [])


# --- plain occurrences ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "after", "expected"),
    [
        ("i", utc(2025, 1, 1, 10, 0, 30), utc(2025, 1, 1, 10, 1)),
        ("i", utc(2025, 1, 1, 10, 1), utc(2025, 1, 1, 10, 2)),
        ("h", utc(2025, 1, 1, 10, 0), utc(2025, 1, 1, 11)),
        ("d", utc(2025, 1, 1, 10), at(PRAGUE, 2025, 1, 2)),
        ("w", utc(2025, 1, 1, 10), at(PRAGUE, 2025, 1, 6)),  # 2025-01-06 is a Monday
        ("m", utc(2025, 1, 31, 23, 30), at(PRAGUE, 2025, 3, 1)),  # already Feb 1 in Prague
        ("y", utc(2025, 6, 1), at(PRAGUE, 2026, 1, 1)),
    ],
)
def test_interval_codes_tick_where_the_original_ticks(code, after, expected):
    result = next_after(Schedule(code, timezone=PRAGUE), after)
    assert_utc(result)
    assert result == expected


def test_an_occurrence_exactly_at_the_instant_is_not_after_it():
    schedule = Schedule("c", cron="30 2 * * *", timezone="UTC")
    assert next_after(schedule, utc(2025, 1, 1, 2, 30)) == utc(2025, 1, 2, 2, 30)
    assert next_after(schedule, utc(2025, 1, 1, 2, 29, 59, 999999)) == utc(2025, 1, 1, 2, 30)
    assert last_at_or_before(schedule, utc(2025, 1, 1, 2, 30)) == utc(2025, 1, 1, 2, 30)


def test_hourly_follows_the_local_clock_in_a_half_hour_zone():
    result = next_after(Schedule("h", timezone="Asia/Kolkata"), utc(2025, 1, 1, 10, 0))
    assert result == utc(2025, 1, 1, 10, 30)


@pytest.mark.parametrize("code", ["d", "w", "m", "y"])
@pytest.mark.parametrize("zone", [PRAGUE, NEW_YORK, "Australia/Lord_Howe"])
def test_calendar_codes_agree_with_their_cron_expressions(code, zone):
    mine = preview(Schedule(code, timezone=zone), utc(2024, 1, 1), 40)
    cron = preview(Schedule("c", cron=INTERVAL_CRON[code], timezone=zone), utc(2024, 1, 1), 40)
    assert mine == cron


# --- DST --------------------------------------------------------------------------


def test_prague_spring_forward_daily_0230_runs_once_right_after_the_gap():
    schedule = Schedule("c", cron="30 2 * * *", timezone=PRAGUE)
    runs = preview(schedule, at(PRAGUE, 2025, 3, 29, 12), 3)
    assert_utc(*runs)
    assert [wall(r, PRAGUE) for r in runs] == [
        "2025-03-30 03:00+0200",  # 02:30 does not exist: the first instant after the gap
        "2025-03-31 02:30+0200",
        "2025-04-01 02:30+0200",
    ]


def test_prague_spring_forward_skipped_minutes_collapse_into_one_run():
    schedule = Schedule("c", cron="*/15 2 * * *", timezone=PRAGUE)
    assert [wall(r, PRAGUE) for r in local_day(schedule, PRAGUE, 2025, 3, 30)] == [
        "2025-03-30 03:00+0200"
    ]


def test_daily_with_delay_adds_real_time_to_local_midnight():
    schedule = Schedule("d", delay=2 * 3600 + 1800, timezone=PRAGUE)
    runs = preview(schedule, at(PRAGUE, 2025, 3, 29, 12), 2)
    # midnight CET + 2.5 h of real time is 03:30 CEST on the night the clocks jump
    assert [wall(r, PRAGUE) for r in runs] == ["2025-03-30 03:30+0200", "2025-03-31 02:30+0200"]
    autumn = preview(schedule, at(PRAGUE, 2025, 10, 25, 12), 2)
    assert [wall(r, PRAGUE) for r in autumn] == ["2025-10-26 02:30+0200", "2025-10-27 02:30+0100"]


def test_prague_fall_back_daily_0230_runs_once_at_the_first_0230():
    schedule = Schedule("c", cron="30 2 * * *", timezone=PRAGUE)
    runs = local_day(schedule, PRAGUE, 2025, 10, 26)
    assert runs == [utc(2025, 10, 26, 0, 30)]  # 02:30 CEST, not again at 02:30 CET
    # asked from inside the repeated hour, the next run is the next day
    assert next_after(schedule, utc(2025, 10, 26, 1, 15)) == at(PRAGUE, 2025, 10, 27, 2, 30)


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [(PRAGUE, (2025, 3, 30), (2025, 10, 26)), (NEW_YORK, (2025, 3, 9), (2025, 11, 2))],
)
def test_hourly_counts_real_hours_and_hourly_cron_counts_wall_hours(zone, spring, autumn):
    hourly = Schedule("h", timezone=zone)
    cron = Schedule("c", cron="0 * * * *", timezone=zone)
    assert len(local_day(hourly, zone, *spring)) == 23
    assert len(local_day(hourly, zone, *autumn)) == 25
    assert len(local_day(cron, zone, *spring)) == 23
    assert len(local_day(cron, zone, *autumn)) == 24
    for schedule in (hourly, cron):
        for day in (spring, autumn):
            runs = local_day(schedule, zone, *day)
            assert_utc(*runs)
            assert runs == sorted(set(runs))


def test_new_york_spring_forward_and_fall_back():
    daily = Schedule("c", cron="30 2 * * *", timezone=NEW_YORK)
    assert [wall(r, NEW_YORK) for r in local_day(daily, NEW_YORK, 2025, 3, 9)] == [
        "2025-03-09 03:00-0400"
    ]
    repeated = Schedule("c", cron="30 1 * * *", timezone=NEW_YORK)
    assert local_day(repeated, NEW_YORK, 2025, 11, 2) == [utc(2025, 11, 2, 5, 30)]  # 01:30 EDT
    hourly = Schedule("h", timezone=NEW_YORK)
    runs = preview(hourly, at(NEW_YORK, 2025, 11, 2, 0, 30), 3)
    assert [wall(r, NEW_YORK) for r in runs] == [
        "2025-11-02 01:00-0400",
        "2025-11-02 01:00-0500",
        "2025-11-02 02:00-0500",
    ]


def test_hourly_in_a_zone_with_a_half_hour_dst_shift():
    # Lord Howe Island goes from +11:00 back to +10:30 at 02:00 local on 2025-04-06.
    runs = preview(Schedule("h", timezone="Australia/Lord_Howe"), utc(2025, 4, 5, 12, 30), 4)
    # The full hours shown by the clock: 00:00 and 01:00 at +11, then 02:00 and 03:00
    # at +10:30 (the clock showed 01:30 again right after 02:00 at +11).
    expected = [utc(2025, 4, 5, 13), utc(2025, 4, 5, 14), utc(2025, 4, 5, 15, 30)]
    assert runs == [*expected, utc(2025, 4, 5, 16, 30)]


def test_next_and_last_agree_everywhere_around_transitions():
    rng = random.Random(20250330)
    schedules = [
        Schedule("h", timezone=PRAGUE),
        Schedule("d", delay=5400, timezone=NEW_YORK),
        Schedule("c", cron="*/20 1-3 * * *", timezone=PRAGUE),
        Schedule("c", cron="30 1 * * *", timezone=NEW_YORK),
        Schedule("h", timezone="Australia/Lord_Howe"),
    ]
    transitions = [
        utc(2025, 3, 30, 1),
        utc(2025, 10, 26, 1),
        utc(2025, 3, 9, 7),
        utc(2025, 4, 5, 15),
    ]
    for _ in range(400):
        schedule = rng.choice(schedules)
        instant = rng.choice(transitions) + dt.timedelta(seconds=rng.randint(-4 * 3600, 4 * 3600))
        following = next_after(schedule, instant)
        previous = last_at_or_before(schedule, instant)
        assert following is not None and previous is not None
        assert previous <= instant < following
        assert last_at_or_before(schedule, following) == following
        assert next_after(schedule, previous) == following


# --- month ends, leap days, delays ------------------------------------------------


def test_the_31st_runs_only_in_months_that_have_one():
    runs = preview(Schedule("c", cron="0 0 31 * *", timezone=PRAGUE), at(PRAGUE, 2025, 1, 1), 7)
    assert [wall(r, PRAGUE)[:10] for r in runs] == [
        "2025-01-31",
        "2025-03-31",
        "2025-05-31",
        "2025-07-31",
        "2025-08-31",
        "2025-10-31",
        "2025-12-31",
    ]


def test_monthly_is_the_first_of_each_month_at_local_midnight():
    runs = preview(Schedule("m", timezone=NEW_YORK), at(NEW_YORK, 2025, 1, 15), 3)
    assert [wall(r, NEW_YORK) for r in runs] == [
        "2025-02-01 00:00-0500",
        "2025-03-01 00:00-0500",
        "2025-04-01 00:00-0400",
    ]


def test_leap_day_cron_waits_for_the_next_leap_year():
    schedule = Schedule("c", cron="0 0 29 2 *", timezone=PRAGUE)
    runs = preview(schedule, at(PRAGUE, 2027, 1, 1), 2)
    assert runs == [at(PRAGUE, 2028, 2, 29), at(PRAGUE, 2032, 2, 29)]


def test_a_delay_may_carry_an_occurrence_past_midnight():
    schedule = Schedule("c", cron="30 23 * * *", delay=3600, timezone="UTC")
    assert next_after(schedule, utc(2025, 12, 31, 23, 45)) == utc(2026, 1, 1, 0, 30)
    weekly = Schedule("w", delay=86400 + 7200, timezone=PRAGUE)
    assert wall(next_after(weekly, at(PRAGUE, 2025, 1, 1)), PRAGUE) == "2025-01-07 02:00+0100"


# --- preview ----------------------------------------------------------------------


def test_preview_gives_exactly_n_increasing_occurrences_after_the_instant():
    after = utc(2025, 5, 5, 5, 5)
    runs = preview(Schedule("c", cron="*/10 9-17 * * 1-5", timezone=PRAGUE), after, 25)
    assert len(runs) == 25
    assert_utc(*runs)
    assert runs == sorted(set(runs))
    assert runs[0] > after
    assert all(9 <= r.astimezone(ZoneInfo(PRAGUE)).hour <= 17 for r in runs)
    assert preview(Schedule("d"), after, 0) == []


@pytest.mark.parametrize("count", [-1, 1001, True])
def test_preview_refuses_a_bad_count(count):
    with pytest.raises(ValidationError, match="count: "):
        preview(Schedule("d"), utc(2025, 1, 1), count)


# --- catch-up ---------------------------------------------------------------------


def test_daily_after_a_three_day_outage_runs_the_latest_once_and_lists_the_rest():
    schedule = Schedule("d", timezone=PRAGUE)
    run_at, missed = due(schedule, at(PRAGUE, 2025, 1, 4, 10), last_planned=at(PRAGUE, 2025, 1, 1))
    assert_utc(run_at, *missed)
    assert run_at == at(PRAGUE, 2025, 1, 4)  # in the past: runs now, once
    assert missed == [at(PRAGUE, 2025, 1, 2), at(PRAGUE, 2025, 1, 3)]


def test_hourly_after_a_three_day_outage():
    schedule = Schedule("h", delay=300, timezone=NEW_YORK)
    last = at(NEW_YORK, 2025, 1, 1, 10, 5)
    run_at, missed = due(schedule, at(NEW_YORK, 2025, 1, 4, 10, 30), last)
    assert run_at == at(NEW_YORK, 2025, 1, 4, 10, 5)
    assert len(missed) == 3 * 24 - 1
    assert missed[0] == at(NEW_YORK, 2025, 1, 1, 11, 5)
    assert missed[-1] == at(NEW_YORK, 2025, 1, 4, 9, 5)


def test_the_missed_list_is_capped_to_the_most_recent():
    schedule = Schedule("i")
    run_at, missed = due(schedule, utc(2025, 1, 4, 0, 0, 30), utc(2025, 1, 1))
    assert run_at == utc(2025, 1, 4)
    assert len(missed) == MISSED_LIMIT
    assert missed[-1] == utc(2025, 1, 3, 23, 59)
    assert missed[0] == utc(2025, 1, 3, 23, 59) - dt.timedelta(minutes=MISSED_LIMIT - 1)


def test_when_nothing_was_missed_the_next_occurrence_is_planned():
    schedule = Schedule("c", cron="0 2 * * *", timezone=PRAGUE)
    now = at(PRAGUE, 2025, 1, 4, 10)
    assert due(schedule, now, last_planned=at(PRAGUE, 2025, 1, 4, 2)) == (
        at(PRAGUE, 2025, 1, 5, 2),
        [],
    )
    assert due(schedule, now, last_planned=None) == (at(PRAGUE, 2025, 1, 5, 2), [])
    # planned ahead already: the one after that
    assert due(schedule, now, last_planned=at(PRAGUE, 2025, 1, 5, 2)) == (
        at(PRAGUE, 2025, 1, 6, 2),
        [],
    )


def test_an_occurrence_exactly_now_is_due_now():
    schedule = Schedule("h")
    assert due(schedule, utc(2025, 1, 1, 12), utc(2025, 1, 1, 11)) == (utc(2025, 1, 1, 12), [])


# --- words and zones --------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "text"),
    [
        (Schedule("n"), "never (disabled)"),
        (Schedule("i"), "every minute"),
        (Schedule("h", delay=600), "every hour at :10"),
        (Schedule("d", delay=7200, timezone=PRAGUE), "every day at 02:00 (Europe/Prague)"),
        (Schedule("w", delay=86400 * 2 + 3600, timezone="UTC"), "every Wednesday at 01:00 (UTC)"),
        (Schedule("m", timezone=PRAGUE), "every month on day 1 at 00:00 (Europe/Prague)"),
        (Schedule("y", timezone=PRAGUE), "every year on 1 January at 00:00 (Europe/Prague)"),
        (Schedule("c", "0 2 * * *", timezone=PRAGUE), "cron 0 2 * * * (Europe/Prague)"),
        (Schedule("c", "0 2 * * *", 90, "UTC"), "cron 0 2 * * * (UTC), delayed by 1m30s"),
    ],
)
def test_descriptions(schedule, text):
    assert describe(schedule) == text


def test_system_zone_prefers_tz_then_etc_timezone_then_the_localtime_link(tmp_path: Path):
    etc_timezone = tmp_path / "timezone"
    localtime = tmp_path / "localtime"
    absent = tmp_path / "absent"
    assert system_timezone_name({"TZ": ":Europe/Prague"}, absent, absent) == PRAGUE
    assert system_timezone_name({"TZ": "/usr/share/zoneinfo/Asia/Tokyo"}, absent, absent) == (
        "Asia/Tokyo"
    )
    etc_timezone.write_text("America/New_York\n")
    assert system_timezone_name({"TZ": "not a zone"}, etc_timezone, absent) == NEW_YORK
    localtime.symlink_to("/usr/share/zoneinfo/Europe/Lisbon")
    assert system_timezone_name({}, absent, localtime) == "Europe/Lisbon"
    assert system_timezone_name({}, absent, absent) == "UTC"


def test_deadline_offsets_read_as_a_duration_or_a_time_of_day():
    from multiflexi.core.schedules import deadline_offset

    assert deadline_offset("+3h") == dt.timedelta(hours=3)
    assert deadline_offset("+30m") == dt.timedelta(minutes=30)
    assert deadline_offset("+45s") == dt.timedelta(seconds=45)
    assert deadline_offset("8:00") == dt.time(8, 0)
    assert deadline_offset("23:59") == dt.time(23, 59)
    for bad in ("zz", "", "+", "+1x", "1:2", "12:345", "+1h30m"):
        with pytest.raises(ValueError, match="is not a deadline offset: use"):
            deadline_offset(bad)
