"""builds.bundle.cron: the schedule strings Hot accepts, normalized, and their next fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from builds.bundle.cron import (
    CronError,
    is_valid,
    latest_fire,
    next_fire,
    normalize,
    parse_when,
    validate_schedule,
    zone,
)
from builds.bundle.errors import BundleError

# Thursday 2026-01-01 00:00:00 UTC.
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- cron ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "normalized", "first"),
    [
        # 5 fields: minute hour dom month dow
        ("*/5 * * * *", "0 */5 * * * * *", at(2026, 1, 1, 0, 5)),
        ("0 2 * * *", "0 0 2 * * * *", at(2026, 1, 1, 2)),
        ("30 9 * * MON", "0 30 9 * * 1 *", at(2026, 1, 5, 9, 30)),
        ("15 9 * * MON-FRI", "0 15 9 * * 1-5 *", at(2026, 1, 1, 9, 15)),
        # 6 fields: seconds first
        ("*/15 * * * * *", "*/15 * * * * * *", at(2026, 1, 1, 0, 0, 15)),
        ("0 30 9 * * MON", "0 30 9 * * 1 *", at(2026, 1, 5, 9, 30)),
        ("0 */30 9-17 * * MON-FRI", "0 */30 9-17 * * 1-5 *", at(2026, 1, 1, 9)),
        # 7 fields: year last
        ("0 0 16 */1 * ? *", "0 0 16 */1 * * *", at(2026, 1, 1, 16)),
        ("0 0 12 ? * SUN *", "0 0 12 * * 0 *", at(2026, 1, 4, 12)),
        ("0 0 0 1 1 * 2027", "0 0 0 1 1 * 2027", at(2027, 1, 1)),
        # croner extensions
        ("0 0 9 L * *", "0 0 9 L * * *", at(2026, 1, 31, 9)),
        ("0 0 9 * * FRI#L", "0 0 9 * * L5 *", at(2026, 1, 30, 9)),
        ("0 0 9 * * MON#2", "0 0 9 * * 1#2 *", at(2026, 1, 12, 9)),
        ("0 30 8 15W * *", "0 30 8 15W * * *", at(2026, 1, 15, 8, 30)),
        ("0 0 9 ? * MON", "0 0 9 * * 1 *", at(2026, 1, 5, 9)),
        ("0 0 9 * jan,jul sun", "0 0 9 * 1,7 0 *", at(2026, 1, 4, 9)),
        ("0 0 9 * * 7", "0 0 9 * * 7 *", at(2026, 1, 4, 9)),  # 7 is Sunday too
    ],
)
def test_cron_forms(expr, normalized, first):
    n = normalize(expr)
    assert n.kind == "cron"
    assert n.cron == normalized
    assert next_fire(expr, T0) == first


@pytest.mark.parametrize(
    "expr",
    [
        "0 0 9 * * FRI#L",
        "0 0 9 * * 5L",
        "0 30 8 15W * *",
        "0 0 12 1 * +MON",
        "0 0 9 * * MON#2",
        "@weekly",
        "every weekday at 8:30 AM",
        "run at midnight on the 1st and 15th of the month",
    ],
)
def test_normalized_form_is_itself_valid(expr):
    # Stored schedules keep the normalized form; feeding it back must not change it.
    once = normalize(expr)
    assert normalize(once.cron).cron == once.cron
    assert next_fire(once.cron, T0) == next_fire(expr, T0)


def test_plus_prefix_means_day_of_month_and_day_of_week():
    # Christmas only when it falls on a Friday (2026: Friday).
    assert next_fire("0 0 12 25 12 +FRI", T0) == at(2026, 12, 25, 12)
    # The 1st of a month that is a Monday: June 2026.
    n = normalize("0 0 12 1 * +MON")
    assert not n.day_or
    assert next_fire(n, T0) == at(2026, 6, 1, 12)
    # Without '+', classic cron OR: the 1st or any Monday.
    assert next_fire("0 0 12 1 * MON", T0) == at(2026, 1, 1, 12)


@pytest.mark.parametrize(
    "expr",
    ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly", "@DAILY"],
)
def test_nicknames(expr):
    n = normalize(expr)
    assert n.kind == "nickname"
    fire = next_fire(expr, T0)
    assert fire > T0


def test_nickname_times():
    assert next_fire("@daily", T0) == at(2026, 1, 2)
    assert next_fire("@hourly", T0) == at(2026, 1, 1, 1)
    assert next_fire("@weekly", T0) == at(2026, 1, 4)  # Sunday
    assert next_fire("@monthly", T0) == at(2026, 2, 1)
    assert next_fire("@yearly", T0) == at(2027, 1, 1)


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("* * * *", "5, 6 or 7 fields"),
        ("* * * * * * * *", "5, 6 or 7 fields"),
        ("61 * * * *", "minute value 61"),
        ("* 24 * * *", "hour value 24"),
        ("* * 0 * *", "day-of-month value 0"),
        ("* * * 13 *", "month value 13"),
        ("* * * * 8", "day-of-week value 8"),
        ("*/0 * * * *", "step"),
        ("5-1 * * * *", "backwards"),
        ("? * * * *", "only allowed in the day fields"),
        ("1,,2 * * * *", "empty item"),
        ("0 0 9 * * MON#6", "occurrence"),
        ("0 0 1 1 1 * 1969", "year value 1969"),
        ("0 0 0 30 2 *", "never fires"),
        ("@reboot", "unknown nickname"),
        ("@every 5m", "unknown nickname"),
    ],
)
def test_invalid_cron(expr, reason):
    with pytest.raises(CronError) as info:
        normalize(expr)
    assert reason in str(info.value)
    assert not is_valid(expr)


# -- English ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "cron"),
    [
        # The phrases Hot's schedules.md documents, with its cron equivalents.
        ("every minute", "0 * * * * * *"),
        ("every 15 seconds", "*/15 * * * * * *"),
        ("every day at 4:00 pm", "0 0 16 * * * *"),
        ("at 10:00 am", "0 0 10 * * * *"),
        ("run at midnight on the 1st and 15th of the month", "0 0 0 1,15 * * *"),
        ("on Sunday at 12:00", "0 0 12 * * 0 *"),
        ("7pm every Thursday", "0 0 19 * * 4 *"),
        ("midnight on Tuesdays", "0 0 0 * * 2 *"),
        ("every day at 9:00 am", "0 0 9 * * * *"),
        ("every Monday at 2 PM", "0 0 14 * * 1 *"),
        # Used in Hot's own sources and tests.
        ("every 1 minute", "0 * * * * * *"),
        ("every 2 minutes", "0 */2 * * * * *"),
        ("every 5 minutes", "0 */5 * * * * *"),
        ("every 30 seconds", "*/30 * * * * * *"),
        ("every day at 9am", "0 0 9 * * * *"),
        ("every monday at 9am", "0 0 9 * * 1 *"),
        ("at 6:00 pm every Monday through Friday", "0 0 18 * * 1-5 *"),
        ("every weekday at 8:30 AM", "0 30 8 * * 1-5 *"),
        ("every weekend at 10 AM", "0 0 10 * * 0,6 *"),
        ("daily", "0 0 0 * * * *"),
        ("daily at 23:59", "0 59 23 * * * *"),
        ("weekly", "0 0 0 * * 0 *"),
        ("monthly", "0 0 0 1 * * *"),
        ("monthly on the 1st", "0 0 0 1 * * *"),
        ("yearly", "0 0 0 1 1 * *"),
        ("hourly", "0 0 * * * * *"),
        ("every hour", "0 0 * * * * *"),
        ("every 3 hours", "0 0 */3 * * * *"),
        ("every 2 days", "0 0 0 */2 * * *"),
        ("every other day", "0 0 0 */2 * * *"),
        ("every Friday at 5:30 PM", "0 30 17 * * 5 *"),
        ("every second", "* * * * * * *"),
        ("Every 5 minutes, only on Friday", "0 */5 * * * 5 *"),
        ("Run every hour only on weekends", "0 0 * * * 0,6 *"),
        ("Run every day from January to March", "0 0 0 * 1-3 * *"),
        ("Run every 3 days at noon", "0 0 12 */3 * * *"),
        ("Run every 2nd day of the month", "0 0 0 2 * * *"),
        ("every 10 minutes Monday through Friday every month", "0 */10 * * * 1-5 *"),
        (
            "every 1 minutes Monday through Thursday between 6:00 am and 9:00 pm",
            "0 * 6-21 * * 1-4 *",
        ),
        ("every 5 seconds in september", "*/5 * * * 9 * *"),
        ("every 2 hours between 8am and 6pm", "0 0 8-18/2 * * * *"),
        ("at 12:00 p.m. on mon-fri", "0 0 12 * * 1-5 *"),
    ],
)
def test_english_phrases(phrase, cron):
    n = normalize(phrase)
    assert n.kind == "english"
    assert n.cron == cron
    assert n.original == phrase


def test_english_fire_times():
    assert next_fire("every 5 minutes", T0) == at(2026, 1, 1, 0, 5)
    assert next_fire("every day at 4:00 pm", T0) == at(2026, 1, 1, 16)
    assert next_fire("on Sunday at 12:00", T0) == at(2026, 1, 4, 12)
    assert next_fire("run at midnight on the 1st and 15th of the month", T0) == at(2026, 1, 15)
    assert next_fire("7pm every Thursday", at(2026, 1, 1, 19)) == at(2026, 1, 8, 19)


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        ("invalid cron", "unrecognized word 'invalid'"),
        ("not a real schedule", "unrecognized word"),
        ("every blue moon", "unrecognized word 'blue'"),
        ("every 500 milliseconds", "sub-second"),
        ("every 10 ms", "sub-second"),
        ("every 0 minutes", "never repeats"),
        ("every 90 minutes", "cannot be expressed"),
        ("every 2 weeks", "cannot be expressed"),
        ("at 25:00", "not a valid time"),
        ("at 13pm", "12-hour"),
        ("in 10 minutes", "one-time"),
        ("10 minutes from now", "one-time"),
        ("every 6 hours at 1:00 pm", "cannot be combined"),
        ("at 9am and at 5pm", "only one time"),
        ("on the 1st every Monday", "not both"),
        ("every friday through monday", "backwards"),
        ("2024-01-15T10:30:00Z", "unrecognized"),
    ],
)
def test_english_rejections(phrase, reason):
    with pytest.raises(CronError) as info:
        normalize(phrase)
    assert reason in str(info.value)


# -- next_fire and helpers ----------------------------------------------------------------


def test_next_fire_is_strictly_after_and_utc():
    fire = next_fire("*/5 * * * *", at(2026, 1, 1, 0, 5))
    assert fire == at(2026, 1, 1, 0, 10)
    assert fire.tzinfo == UTC


def test_next_fire_accepts_naive_and_other_zones():
    assert next_fire("@hourly", datetime(2026, 1, 1, 10, 30)) == at(2026, 1, 1, 11)
    plus2 = timezone(timedelta(hours=2))
    # 12:30 at +02:00 is 10:30 UTC; Hot schedules are UTC.
    assert next_fire("@hourly", datetime(2026, 1, 1, 12, 30, tzinfo=plus2)) == at(2026, 1, 1, 11)
    assert next_fire("0 0 12 * * * *", datetime(2026, 1, 1, 13, 0, tzinfo=plus2)) == at(
        2026, 1, 1, 12
    )


def test_next_fire_can_be_iterated():
    fires = []
    moment = T0
    for _ in range(3):
        moment = next_fire("every 15 seconds", moment)
        fires.append(moment)
    assert fires == [at(2026, 1, 1, 0, 0, 15), at(2026, 1, 1, 0, 0, 30), at(2026, 1, 1, 0, 0, 45)]


def test_next_fire_when_no_more_fires():
    with pytest.raises(CronError):
        next_fire("0 0 0 1 1 * 2027", at(2028, 1, 1))


def test_validate_schedule_names_the_function():
    assert validate_schedule("@daily", "::app::jobs/cleanup").cron == "0 0 0 * * * *"
    with pytest.raises(BundleError) as info:
        validate_schedule("every blue moon", "::app::jobs/cleanup")
    assert info.value.code == "invalid_cron"
    assert "::app::jobs/cleanup" in info.value.message
    assert "every blue moon" in info.value.message


# -- time zones ---------------------------------------------------------------------------

PARIS = zone("Europe/Paris")


@pytest.mark.parametrize(
    ("expr", "after", "fires"),
    [
        # 29 March 2026, 02:00 → 03:00 in Paris: 02:30 happens an hour later, at 03:30 CEST.
        (
            "30 2 * * *",
            at(2026, 3, 28, 0),
            [at(2026, 3, 28, 1, 30), at(2026, 3, 29, 1, 30), at(2026, 3, 30, 0, 30)],
        ),
        # 25 October 2026, 03:00 → 02:00: 02:30 happens twice and fires the first time only.
        (
            "30 2 * * *",
            at(2026, 10, 24, 0),
            [at(2026, 10, 24, 0, 30), at(2026, 10, 25, 0, 30), at(2026, 10, 26, 1, 30)],
        ),
        # Hourly across the autumn change: each wall-clock hour once.
        (
            "0 * * * *",
            at(2026, 10, 24, 23, 30),
            [at(2026, 10, 25, 0), at(2026, 10, 25, 2), at(2026, 10, 25, 3)],
        ),
    ],
    ids=["spring-forward", "fall-back", "hourly-fall-back"],
)
def test_next_fire_in_a_time_zone_across_dst(expr, after, fires):
    got, moment = [], after
    for _ in fires:
        moment = next_fire(expr, moment, PARIS)
        got.append(moment)
    assert got == fires


def test_latest_fire_in_a_time_zone():
    assert latest_fire("30 2 * * *", at(2026, 3, 29, 1, 40), PARIS) == at(2026, 3, 29, 1, 30)
    assert latest_fire("30 2 * * *", at(2026, 10, 25, 1, 40), PARIS) == at(2026, 10, 25, 0, 30)
    assert latest_fire("30 2 * * *", at(2026, 1, 5, 1, 30), PARIS) == at(2026, 1, 5, 1, 30)


def test_utc_zone_is_plain_utc():
    assert (
        next_fire("0 9 * * *", T0, zone("UTC")) == next_fire("0 9 * * *", T0) == at(2026, 1, 1, 9)
    )


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../etc/passwd", "x" * 100, 5, None])
def test_unknown_zones_are_refused(name):
    with pytest.raises(CronError, match="time zone"):
        zone(name)


# -- hot:schedule:new ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "at_time"),
    [
        ("2030-01-15T10:30:00Z", at(2030, 1, 15, 10, 30)),
        ("2030-01-15T11:30:00+01:00", at(2030, 1, 15, 10, 30)),
        ("10 minutes", T0 + timedelta(minutes=10)),
        ("in 10 minutes", T0 + timedelta(minutes=10)),
        ("2h", T0 + timedelta(hours=2)),
        ("1 day 3 hours", T0 + timedelta(days=1, hours=3)),
        ("2 hours from now", T0 + timedelta(hours=2)),
        ("after 30s", T0 + timedelta(seconds=30)),
    ],
)
def test_one_off_times(expr, at_time):
    when = parse_when(expr, T0)
    assert when.at == at_time and when.recurring is None


@pytest.mark.parametrize(
    ("expr", "cron"),
    [
        ("every day at 9am", "0 0 9 * * * *"),
        ("0 30 9 * * MON", "0 30 9 * * 1 *"),
        ("@daily", "0 0 0 * * * *"),
    ],
)
def test_recurring_times(expr, cron):
    when = parse_when(expr, T0)
    assert when.at is None and when.recurring.cron == cron


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("", "non-empty"),
        ("whenever", "is not a date-time"),
        ("2030-01-15T10:30:00", "no UTC offset"),
        ("in 5 parsecs", "is not a date-time"),
        ("10 minutes ago", "is not a date-time"),
    ],
)
def test_bad_schedule_strings(expr, reason):
    with pytest.raises(CronError, match=reason):
        parse_when(expr, T0)
