"""Schedule strings as Hot accepts them, and their next fire time (in UTC, or read in an IANA
time zone's wall clock), and the one-off times ``hot:schedule:new`` also accepts.

Hot (``resources/docs/schedules.md``, ``db/schedule.rs``) accepts, all in UTC:

* cron with 5, 6 or 7 fields in the ``croner`` layout: an *optional leading
  seconds* field, then minute hour day-of-month month day-of-week, then an
  optional *trailing year*. ``?``, ``L``, ``nW``, ``#n``, ``#L``, names
  (``JAN``-``DEC``, ``SUN``-``SAT``) and a ``+`` prefix on day-of-week (day-of-month
  AND day-of-week instead of OR) are allowed;
* nicknames: ``@yearly @annually @monthly @weekly @daily @hourly``;
* English phrases (Hot uses the ``english-to-cron`` crate), e.g. ``every 5 minutes``,
  ``every day at 4:00 pm``, ``on Sunday at 12:00``, ``7pm every Thursday``,
  ``run at midnight on the 1st and 15th of the month``.

Everything is normalized to one 7-field form, ``sec min hour dom mon dow year``,
which is itself valid croner syntax and which :func:`next_fire` hands to
``croniter`` (``second_at_beginning=True``). English outside the grammar below is
rejected with a reason rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from .errors import BundleError


class CronError(ValueError):
    """A schedule string Hot would not accept. The message says why."""


NICKNAMES = {
    "@yearly": "0 0 0 1 1 * *",
    "@annually": "0 0 0 1 1 * *",
    "@monthly": "0 0 0 1 * * *",
    "@weekly": "0 0 0 * * 0 *",
    "@daily": "0 0 0 * * * *",
    "@hourly": "0 0 * * * * *",
}

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_SEC = _Field("second", 0, 59)
_MIN = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DOM = _Field("day-of-month", 1, 31)
_MON = _Field("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)})
# 7 is Sunday as well, as in croner and croniter.
_DOW = _Field("day-of-week", 0, 7, {d: i for i, d in enumerate(_DAYS)})
# croniter iterates years 1970-2099; a year outside that range can never fire there.
_YEAR = _Field("year", 1970, 2099)


@dataclass(frozen=True)
class NormalizedSchedule:
    """A validated schedule.

    ``cron`` is the 7-field form (``sec min hour dom mon dow year``); ``kind`` says
    what was written (``cron``, ``nickname`` or ``english``).
    """

    original: str
    cron: str
    kind: str

    @property
    def day_or(self) -> bool:
        # croner's '+' prefix on day-of-week asks for day-of-month AND day-of-week.
        return not self.cron.split()[5].startswith("+")

    @property
    def croniter_expr(self) -> str:
        fields = self.cron.split()
        fields[5] = fields[5].lstrip("+")
        return " ".join(fields)


# -- cron syntax -------------------------------------------------------------------------


def _value(token: str, field: _Field) -> int:
    upper = token.upper()
    if field.names and upper in field.names:
        return field.names[upper]
    if not token.isdigit():
        raise CronError(f"{token!r} is not a valid {field.name} value")
    value = int(token)
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name} value {value} is outside {field.low}-{field.high}")
    return value


def _range_item(item: str, field: _Field) -> str:
    """Validate ``*``, ``v``, ``a-b`` with an optional ``/step``; return it with numbers."""
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or not 1 <= int(step) <= field.high - field.low + 1:
            raise CronError(f"invalid step {step!r} in {field.name} field")
        step_part = f"/{int(step)}"
    else:
        step_part = ""
    if base == "*":
        return "*" + step_part
    start, dash, end = base.partition("-")
    low = _value(start, field)
    if dash:
        high = _value(end, field)
        if low > high:
            raise CronError(f"{field.name} range {base!r} runs backwards")
        return f"{low}-{high}{step_part}"
    return f"{low}{step_part}"


def _dom_item(item: str) -> str:
    upper = item.upper()
    if upper == "L":
        return "L"
    if upper.endswith("W") and upper[:-1].isdigit():
        return f"{_value(upper[:-1], _DOM)}W"
    return _range_item(item, _DOM)


def _dow_item(item: str) -> str:
    upper = item.upper()
    if "#" in upper:
        day, _, nth = upper.partition("#")
        weekday = _value(day, _DOW) % 7
        if nth == "L":
            return f"L{weekday}"  # croniter spells "last <weekday> of the month" this way
        if nth not in {"1", "2", "3", "4", "5"}:
            raise CronError(f"invalid occurrence {nth!r} in {item!r} (use 1-5 or L)")
        return f"{weekday}#{nth}"
    if upper.endswith("L") and len(upper) > 1:
        return f"L{_value(upper[:-1], _DOW) % 7}"
    if upper.startswith("L") and len(upper) > 1:
        # Our own normalized spelling of "last <weekday>", so normalize() is idempotent.
        return f"L{_value(upper[1:], _DOW) % 7}"
    return _range_item(item, _DOW)


def _list(text: str, field: _Field, item_fn) -> str:  # type: ignore[no-untyped-def]
    if text == "?":
        if field not in (_DOM, _DOW):
            raise CronError(f"'?' is only allowed in the day fields, not in {field.name}")
        return "*"
    items = text.split(",")
    if any(not item for item in items):
        raise CronError(f"empty item in {field.name} field {text!r}")
    return ",".join(item_fn(item) for item in items)


def _parse_cron(expr: str) -> str:
    fields = expr.split()
    if len(fields) == 5:
        fields = ["0", *fields, "*"]
    elif len(fields) == 6:
        fields = [*fields, "*"]
    elif len(fields) != 7:
        raise CronError(f"cron needs 5, 6 or 7 fields, got {len(fields)}")
    sec, minute, hour, dom, mon, dow, year = fields
    plus = dow.startswith("+")
    if plus:
        dow = dow[1:]
    out = [
        _list(sec, _SEC, lambda i: _range_item(i, _SEC)),
        _list(minute, _MIN, lambda i: _range_item(i, _MIN)),
        _list(hour, _HOUR, lambda i: _range_item(i, _HOUR)),
        _list(dom, _DOM, _dom_item),
        _list(mon, _MON, lambda i: _range_item(i, _MON)),
        ("+" if plus else "") + _list(dow, _DOW, _dow_item),
        _list(year, _YEAR, lambda i: _range_item(i, _YEAR)),
    ]
    return " ".join(out)


def _looks_like_cron(expr: str) -> bool:
    # Cron fields use only these characters, and the first one (seconds or
    # minutes) always starts with a digit, '*' or '?'; English never does.
    return bool(re.fullmatch(r"[0-9A-Za-z*?/,#+\-\s]+", expr)) and expr[0] in "0123456789*?"


# -- English -----------------------------------------------------------------------------

_UNITS = {
    **dict.fromkeys(("second", "seconds", "sec", "secs"), "second"),
    **dict.fromkeys(("minute", "minutes", "min", "mins"), "minute"),
    **dict.fromkeys(("hour", "hours", "hr", "hrs"), "hour"),
    **dict.fromkeys(("day", "days"), "day"),
    **dict.fromkeys(("week", "weeks"), "week"),
    **dict.fromkeys(("month", "months"), "month"),
    **dict.fromkeys(("year", "years"), "year"),
}
_PERIODS = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "yearly": "year",
    "annually": "year",
}
_SUBSECOND = {
    "millisecond",
    "milliseconds",
    "msec",
    "msecs",
    "ms",
    "microsecond",
    "microseconds",
    "usec",
    "usecs",
    "nanosecond",
    "nanoseconds",
    "nsec",
    "nsecs",
}
_DAY_WORDS: dict[str, int] = {}
for _i, _full in enumerate(
    ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
):
    for _w in (_full, _full + "s", _full[:3], _full[:3] + "s"):
        _DAY_WORDS[_w] = _i
_DAY_WORDS.update({"tues": 2, "thur": 4, "thurs": 4})
_MONTH_WORDS: dict[str, int] = {}
for _i, _full in enumerate(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
):
    _MONTH_WORDS[_full] = _i + 1
    _MONTH_WORDS[_full[:3]] = _i + 1
_MONTH_WORDS["sept"] = 9
# Words that carry no meaning of their own in the supported phrases.
_FILLER = {"run", "only", "the", "and", "on", "at", "in", "of", "from", "every", "each"}
_RANGE_WORDS = {"through", "thru", "to", "until", "-"}
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(am|pm)?$")
_ORDINAL_RE = re.compile(r"^(\d{1,2})(st|nd|rd|th)$")
_UNIT_MAX = {"second": 59, "minute": 59, "hour": 23, "day": 31, "month": 12}


def _tokens(phrase: str) -> list[str]:
    text = phrase.lower().replace(",", " ").replace("a.m.", "am").replace("p.m.", "pm")
    text = re.sub(r"(\d)\s+(am|pm)\b", r"\1\2", text)  # "4:00 pm" -> "4:00pm"
    text = re.sub(r"([a-z])-([a-z])", r"\1 - \2", text)  # "mon-fri" -> "mon - fri"
    return text.rstrip(".").split()


def _time(token: str, after_at: bool) -> tuple[int, int, int] | None:
    if token == "noon":
        return (12, 0, 0)
    if token == "midnight":
        return (0, 0, 0)
    match = _TIME_RE.match(token)
    if not match:
        return None
    hour_s, minute_s, second_s, ampm = match.groups()
    # A bare number is only a time right after "at" ("at 9"); elsewhere it is a count.
    if minute_s is None and ampm is None and not after_at:
        return None
    hour, minute, second = int(hour_s), int(minute_s or 0), int(second_s or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise CronError(f"{token!r} is not a valid 12-hour time")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise CronError(f"{token!r} is not a valid time of day")
    return (hour, minute, second)


class _English:
    def __init__(self, phrase: str) -> None:
        self.tokens = _tokens(phrase)
        self.intervals: list[tuple[int, str]] = []
        self.time: tuple[int, int, int] | None = None
        self.hour_range: tuple[int, int] | None = None
        self.dows: list[str] = []
        self.doms: list[int] = []
        self.months: list[str] = []
        self.years: list[int] = []

    def take_range(self, i: int, words: dict[str, int], first: int) -> tuple[str, int]:
        """``monday`` or ``monday through friday``; returns (cron item, tokens used)."""
        toks = self.tokens
        if i + 2 < len(toks) and toks[i + 1] in _RANGE_WORDS and toks[i + 2] in words:
            last = words[toks[i + 2]]
            if last < first:
                raise CronError(f"range {toks[i]!r} to {toks[i + 2]!r} runs backwards")
            return f"{first}-{last}", 3
        return str(first), 1

    def parse(self) -> str:
        toks = self.tokens
        if not toks:
            raise CronError("the schedule is empty")
        if toks[0] in ("in", "after") or toks[-2:] == ["from", "now"]:
            # Delays are what hot:schedule:new accepts for one-time runs, not meta.
            raise CronError("a one-time delay is not a recurring schedule")
        i = 0
        while i < len(toks):
            tok = toks[i]
            prev = toks[i - 1] if i else ""
            nxt = toks[i + 1] if i + 1 < len(toks) else ""
            if tok in _SUBSECOND:
                raise CronError("sub-second schedules are not supported")
            if tok in ("every", "each") and nxt == "other" and i + 2 < len(toks):
                unit = _UNITS.get(toks[i + 2])
                if unit is None:
                    raise CronError(f"expected a unit after 'every other', got {toks[i + 2]!r}")
                self.intervals.append((2, unit))
                i += 3
                continue
            if tok in ("every", "each") and nxt.isdigit() and i + 2 < len(toks):
                if toks[i + 2] in _SUBSECOND:
                    raise CronError("sub-second schedules are not supported")
                unit = _UNITS.get(toks[i + 2])
                if unit is None:
                    raise CronError(f"expected a unit after 'every {nxt}', got {toks[i + 2]!r}")
                self.intervals.append((int(nxt), unit))
                i += 3
                continue
            if tok in _UNITS and prev in ("every", "each"):
                self.intervals.append((1, _UNITS[tok]))
                i += 1
                continue
            if tok in _PERIODS:
                self.intervals.append((1, _PERIODS[tok]))
                i += 1
                continue
            if tok == "between":
                self.take_between(i)
                i += 4
                continue
            when = _time(tok, after_at=prev == "at")
            if when is not None:
                if self.time is not None:
                    raise CronError("only one time of day is supported")
                self.time = when
                i += 1
                continue
            if tok in ("weekday", "weekdays"):
                self.dows.append("1-5")
                i += 1
                continue
            if tok in ("weekend", "weekends"):
                self.dows.extend(["0", "6"])
                i += 1
                continue
            if tok in _DAY_WORDS:
                item, used = self.take_range(i, _DAY_WORDS, _DAY_WORDS[tok])
                self.dows.append(item)
                i += used
                continue
            if tok in _MONTH_WORDS:
                item, used = self.take_range(i, _MONTH_WORDS, _MONTH_WORDS[tok])
                self.months.append(item)
                i += used
                continue
            ordinal = _ORDINAL_RE.match(tok)
            if ordinal:
                day = int(ordinal.group(1))
                if not 1 <= day <= 31:
                    raise CronError(f"{tok!r} is not a day of the month")
                self.doms.append(day)
                i += 2 if nxt == "day" else 1
                continue
            if tok.isdigit() and len(tok) == 4:
                self.years.append(_value(tok, _YEAR))
                i += 1
                continue
            if tok == "month" and prev in ("the", "every", "each"):
                # "of the month" / "... every month" restate the default.
                i += 1
                continue
            if tok in _FILLER:
                i += 1
                continue
            raise CronError(f"unrecognized word {tok!r}")
        return self.assemble()

    def take_between(self, i: int) -> None:
        toks = self.tokens
        if i + 3 >= len(toks) or toks[i + 2] != "and":
            raise CronError("expected 'between <time> and <time>'")
        start = _time(toks[i + 1], after_at=True)
        end = _time(toks[i + 3], after_at=True)
        if start is None or end is None:
            raise CronError("expected 'between <time> and <time>'")
        if start[0] > end[0]:
            raise CronError("the 'between' hours run backwards")
        self.hour_range = (start[0], end[0])

    def assemble(self) -> str:
        intervals = self.intervals
        # "every 10 minutes ... every month": the month restates the default.
        if len(intervals) > 1:
            intervals = [iv for iv in intervals if iv != (1, "month")]
        if len(intervals) > 1:
            raise CronError("more than one repeat interval")
        if self.doms and self.dows:
            raise CronError("give either days of the month or days of the week, not both")
        interval = intervals[0] if intervals else None
        if interval is None and not (self.time or self.dows or self.doms):
            raise CronError("no repeat interval, time or day found")
        count, unit = interval if interval else (1, "day")
        if count < 1:
            raise CronError(f"'every {count} {unit}s' never repeats")
        if unit in _UNIT_MAX and count > _UNIT_MAX[unit]:
            raise CronError(f"every {count} {unit}s cannot be expressed in cron")
        every = "*" if count == 1 else f"*/{count}"

        sec, minute, hour = "0", "0", "0"
        dom, mon, dow, year = "*", "*", "*", "*"
        if unit in ("second", "minute", "hour"):
            if self.time is not None:
                raise CronError(f"a time of day cannot be combined with 'every {unit}'")
            span = f"{self.hour_range[0]}-{self.hour_range[1]}" if self.hour_range else "*"
            if unit == "second":
                sec, minute, hour = every, "*", span
            elif unit == "minute":
                minute, hour = every, span
            elif span == "*":
                hour = every
            else:
                hour = span if count == 1 else f"{span}/{count}"
        else:
            if self.hour_range is not None:
                raise CronError(f"'between' only works with seconds, minutes or hours, not {unit}s")
            if self.time is not None:
                hour, minute, sec = (str(v) for v in self.time)
            if unit == "day":
                dom = every
            elif unit == "week":
                if count != 1:
                    raise CronError(f"every {count} weeks cannot be expressed in cron")
                if not self.dows:
                    dow = "0"
            elif unit == "month":
                mon = every
                if not self.doms and not self.dows:
                    dom = "1"
            elif unit == "year":
                if count != 1:
                    raise CronError(f"every {count} years cannot be expressed in cron")
                if not self.doms and not self.dows:
                    dom = "1"
                if not self.months:
                    mon = "1"
        if self.dows:
            dow = ",".join(dict.fromkeys(self.dows))
            dom = "*"  # the weekdays decide, as english-to-cron does
        if self.doms:
            dom = ",".join(str(d) for d in sorted(set(self.doms)))
        if self.months:
            if unit == "month" and count > 1:
                raise CronError("give either 'every N months' or month names, not both")
            mon = ",".join(dict.fromkeys(self.months))
        if self.years:
            year = ",".join(str(y) for y in sorted(set(self.years)))
        return " ".join((sec, minute, hour, dom, mon, dow, year))


# -- public API --------------------------------------------------------------------------


def normalize(expr: str) -> NormalizedSchedule:
    """Validate a schedule string; raise CronError with the reason if Hot would refuse it."""
    if not isinstance(expr, str):
        raise CronError("a schedule must be a string")
    text = expr.strip()
    if not text:
        raise CronError("the schedule is empty")
    if len(text) > 256:
        raise CronError("the schedule is longer than 256 characters")
    if text.startswith("@"):
        cron = NICKNAMES.get(text.lower())
        if cron is None:
            raise CronError(
                f"unknown nickname {text!r} (use one of {', '.join(sorted(NICKNAMES))})"
            )
        result = NormalizedSchedule(expr, cron, "nickname")
    elif _looks_like_cron(text):
        try:
            result = NormalizedSchedule(expr, _parse_cron(text), "cron")
        except CronError as cron_error:
            # Some English is made only of cron-looking words ("daily"); try it too.
            try:
                result = NormalizedSchedule(expr, _English(text).parse(), "english")
            except CronError as english_error:
                # Report the reading that was more likely meant.
                cron_like = len(text.split()) in (5, 6, 7) or any(c in text for c in "*?/#")
                raise (cron_error if cron_like else english_error) from None
    else:
        result = NormalizedSchedule(expr, _parse_cron(_English(text).parse()), "english")
    _first_fire(result)
    return result


def _first_fire(schedule: NormalizedSchedule) -> datetime:
    # A syntactically valid expression can still never fire (February 30th).
    try:
        return _iter(schedule, datetime.now(UTC)).get_next(datetime)
    except (CroniterBadDateError, ValueError, KeyError) as exc:
        raise CronError(f"{schedule.original!r} never fires ({exc})") from None


def _iter(schedule: NormalizedSchedule, after: datetime) -> croniter:
    return croniter(schedule.croniter_expr, after, second_at_beginning=True, day_or=schedule.day_or)


def _utc(moment: datetime) -> datetime:
    # Hot schedules are UTC; a naive datetime is taken to be UTC already.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def is_valid(expr: str) -> bool:
    try:
        normalize(expr)
    except CronError:
        return False
    return True


def next_fire(
    expr: str | NormalizedSchedule, after: datetime, tz: ZoneInfo | None = None
) -> datetime:
    """The first fire time strictly after ``after``, as an aware UTC datetime.

    With ``tz`` the expression is read in that zone's wall-clock time (see :func:`_wall_to_utc`
    for the daylight-saving rules)."""
    schedule = expr if isinstance(expr, NormalizedSchedule) else normalize(expr)
    if _is_utc(tz):
        try:
            fire = _iter(schedule, _utc(after)).get_next(datetime)
        except CroniterBadDateError as exc:
            raise CronError(
                f"{schedule.original!r} has no fire time after {after}: {exc}"
            ) from None
        return _utc(fire)
    after = _utc(after)
    # Start an hour early so a wall time of a repeated (autumn) hour is not missed.
    wall = after.astimezone(tz).replace(tzinfo=None) - timedelta(hours=1)
    iterator = _iter(schedule, wall)
    for _ in range(_MAX_ZONE_STEPS):
        try:
            candidate = _wall_to_utc(iterator.get_next(datetime), tz)
        except CroniterBadDateError as exc:
            raise CronError(
                f"{schedule.original!r} has no fire time after {after}: {exc}"
            ) from None
        if candidate > after:
            return candidate
    raise CronError(f"{schedule.original!r} has no fire time after {after} in {tz}")


def latest_fire(
    expr: str | NormalizedSchedule, at_or_before: datetime, tz: ZoneInfo | None = None
) -> datetime:
    """The last fire time at or before ``at_or_before``, as an aware UTC datetime (for
    catching up after downtime without replaying every missed tick)."""
    schedule = expr if isinstance(expr, NormalizedSchedule) else normalize(expr)
    start = _utc(at_or_before).replace(microsecond=0) + timedelta(seconds=1)
    if _is_utc(tz):
        try:
            fire = _iter(schedule, start).get_prev(datetime)
        except CroniterBadDateError as exc:
            raise CronError(
                f"{schedule.original!r} has no fire time before {start}: {exc}"
            ) from None
        return _utc(fire)
    # Start an hour late so a wall time of a skipped (spring) hour is not missed.
    iterator = _iter(schedule, start.astimezone(tz).replace(tzinfo=None) + timedelta(hours=1))
    for _ in range(_MAX_ZONE_STEPS):
        try:
            candidate = _wall_to_utc(iterator.get_prev(datetime), tz)
        except CroniterBadDateError as exc:
            raise CronError(
                f"{schedule.original!r} has no fire time before {start}: {exc}"
            ) from None
        if candidate < start:
            return candidate
    raise CronError(f"{schedule.original!r} has no fire time before {start} in {tz}")


# Wall times examined past the limit before giving up (an hour of every-second fires).
_MAX_ZONE_STEPS = 3700


def _is_utc(tz: ZoneInfo | None) -> bool:
    return tz is None or tz.key in ("UTC", "Etc/UTC")


def _wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time of ``tz`` as UTC. A time the clocks skip (spring forward) happens
    that much later (02:30 becomes 03:30 when 02:00 jumps to 03:00); a time the clocks repeat
    (fall back) happens once, the first time (``fold=0``)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; CronError when there is none by that name."""
    if not isinstance(name, str) or not name or len(name) > 64:
        raise CronError("a time zone must be an IANA name such as 'Europe/Paris'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(
            f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris')"
        ) from None


def validate_schedule(expr: str, fn: str, meta: dict | None = None) -> NormalizedSchedule:
    """normalize() (and the ``timezone`` of ``meta``, an IANA name), raising BundleError that
    names the function and the string."""
    try:
        normalized = normalize(expr)
    except CronError as exc:
        raise BundleError(
            "invalid_cron", f"Invalid schedule {expr!r} on {fn}: {exc}", entry=fn
        ) from None
    if meta and "timezone" in meta:
        try:
            zone(meta["timezone"])
        except CronError as exc:
            raise BundleError(
                "invalid_timezone", f"Invalid timezone on {fn}: {exc}", entry=fn
            ) from None
    return normalized


# -- dynamic schedules (``hot:schedule:new``) ---------------------------------------------

_DELAY_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DELAY_PART = re.compile(r"(\d{1,9})\s*([a-z]+)")


def _delay(text: str) -> timedelta | None:
    """``10 minutes``, ``2h``, ``1 day 3 hours``, ``in 10 minutes``, ``2 hours from now``."""
    text = text.lower().strip()
    for prefix in ("in ", "after "):
        text = text.removeprefix(prefix)
    text = text.removesuffix(" from now").replace(",", " ").replace(" and ", " ").strip()
    parts = _DELAY_PART.findall(text)
    if not parts or _DELAY_PART.sub("", text).strip():
        return None
    if any(unit not in _DELAY_UNITS for _, unit in parts):
        return None
    return timedelta(seconds=sum(int(count) * _DELAY_UNITS[unit] for count, unit in parts))


@dataclass(frozen=True)
class When:
    """What a ``hot:schedule:new`` schedule string means: one time (``at``) or recurring."""

    at: datetime | None = None
    recurring: NormalizedSchedule | None = None


def parse_when(expr: str, now: datetime) -> When:
    """An ISO 8601 date-time, a delay from ``now`` or a recurring schedule (cron, nickname or
    English), tried in that order as Hot does; CronError says why none fits."""
    if not isinstance(expr, str) or not expr.strip():
        raise CronError("a schedule must be a non-empty string")
    text = expr.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None:
        if moment.tzinfo is None:
            raise CronError(f"{text!r} has no UTC offset (write e.g. 2030-01-15T10:30:00Z)")
        return When(at=_utc(moment))
    delay = _delay(text)
    if delay is not None:
        return When(at=_utc(now) + delay)
    try:
        return When(recurring=normalize(text))
    except CronError as exc:
        raise CronError(
            f"{text!r} is not a date-time (2030-01-15T10:30:00Z), a delay (in 10 minutes, 2h) "
            f"or a recurring schedule: {exc}"
        ) from None
