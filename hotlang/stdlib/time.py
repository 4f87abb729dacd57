"""Time: `::hot::time`, after the Temporal model.

Every value is a record of the Hot type it stands for (`Instant`, `PlainDate`, `PlainTime`,
`PlainDateTime`, `ZonedDateTime`, `Duration`, and the unit wrappers `Second`, `Day`, ...), so
fields read as in Hot (`zdt.hour`, `dur.days`), `Str(x)` gives the ISO form and JSON carries
the type. Sub-second parts are kept to the nanosecond; time zones come from the IANA database
(`zoneinfo`, with the `tzdata` package where the system has none).
"""

from __future__ import annotations

import calendar
import re
import time as _time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import HotRuntimeError
from ..values import Builtin, Err, TypedVal, TypeInfo, hot_str
from .registry import LIB, lib

T = "::hot::time"
NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
DATE_FIELDS = ("year", "month", "day")
TIME_FIELDS = ("hour", "minute", "second", "millisecond", "microsecond", "nanosecond")
DURATION_FIELDS = (
    "years",
    "months",
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
    "nanoseconds",
)
# nanoseconds in one of each fixed-length Duration unit (years and months have no fixed length)
UNIT_NS = {
    "weeks": 7 * NS_PER_DAY,
    "days": NS_PER_DAY,
    "hours": 3600 * NS_PER_SECOND,
    "minutes": 60 * NS_PER_SECOND,
    "seconds": NS_PER_SECOND,
    "milliseconds": 1_000_000,
    "microseconds": 1_000,
    "nanoseconds": 1,
}


def _builtin(name, fn):
    return Builtin(name, fn, "strict", f"{T}/{name}")


def _record_type(name, fields, ctor):
    t = TypeInfo(name, f"{T}/{name}", "type", [(f, None) for f in fields])
    t.ctor = _builtin(name, ctor)
    t.coercions["Str"] = _builtin("to-string", to_string)
    LIB.setdefault(T, {})[name] = t
    return t


# -- unit wrappers: Nanosecond(5) is a typed Int --------------------------------------------
def _unit_type(name):
    t = TypeInfo(name, f"{T}/{name}", "type")

    def make(v):
        if v.__class__ is TypedVal:
            v = v.value
        if v.__class__ not in (int, Decimal):
            raise HotRuntimeError(f"{name}: expected an Int, got {hot_str(v)}")
        return TypedVal(t, int(v))

    t.ctor = _builtin(name, make)
    t.coercions["Int"] = _builtin("Int", lambda v: v.value)
    LIB.setdefault(T, {})[name] = t
    return t


UNITS = {
    name: _unit_type(name)
    for name in (
        "Nanosecond",
        "Microsecond",
        "Millisecond",
        "Second",
        "Minute",
        "Hour",
        "Day",
        "Week",
        "Month",
        "Year",
    )
}


def _unit_of(v):
    return v.type.name if v.__class__ is TypedVal and v.type in UNITS.values() else None


# -- construction helpers --------------------------------------------------------------------
def _is(v, t):
    return v.__class__ is TypedVal and v.type is t


def _int(v, what):
    if v.__class__ is TypedVal:
        v = v.value
    if v.__class__ is Decimal and v == v.to_integral_value():
        v = int(v)
    if v.__class__ is not int or v.__class__ is bool:
        raise HotRuntimeError(f"{what}: expected an Int, got {hot_str(v)}")
    return v


def _split_ns(sub_ns):
    return {
        "millisecond": sub_ns // 1_000_000,
        "microsecond": sub_ns // 1_000 % 1_000,
        "nanosecond": sub_ns % 1_000,
    }


def _sub_ns(f):
    return f["millisecond"] * 1_000_000 + f["microsecond"] * 1_000 + f["nanosecond"]


def _date_fields(d):
    return {"year": d.year, "month": d.month, "day": d.day}


def _time_fields(hour, minute, second, sub_ns=0):
    return {"hour": hour, "minute": minute, "second": second, **_split_ns(sub_ns)}


def _make_date(y, m, d):
    try:
        date(y, m, d)
    except ValueError as e:
        raise HotRuntimeError(f"PlainDate: {e}") from None
    return TypedVal(PLAIN_DATE, {"year": y, "month": m, "day": d, "calendar": "iso8601"})


def _make_time(h, mi, s, sub_ns=0):
    if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= s < 60 and 0 <= sub_ns < NS_PER_SECOND):
        raise HotRuntimeError(f"PlainTime: {h}:{mi}:{s} is not a valid time")
    return TypedVal(PLAIN_TIME, _time_fields(h, mi, s, sub_ns))


def _make_pdt(dt, sub_ns=None):
    """A PlainDateTime from a naive datetime; sub_ns overrides its microseconds."""
    if sub_ns is None:
        sub_ns = dt.microsecond * 1_000
    fields = {**_date_fields(dt), **_time_fields(dt.hour, dt.minute, dt.second, sub_ns)}
    return TypedVal(PLAIN_DATE_TIME, {**fields, "calendar": "iso8601"})


def _naive(f):
    """The naive datetime (to the microsecond) and the full sub-second nanoseconds of fields."""
    sub = _sub_ns(f) if "millisecond" in f else 0
    dt = datetime(f["year"], f["month"], f["day"], f.get("hour", 0), f.get("minute", 0))
    return dt.replace(second=f.get("second", 0), microsecond=sub // 1000), sub


def _instant(epoch_ns):
    return TypedVal(INSTANT, {"epochNanoseconds": epoch_ns})


def _epoch_ns_of_naive(dt, sub_ns, tz=UTC):
    aware = dt.replace(tzinfo=tz, microsecond=0)
    return int(aware.timestamp()) * NS_PER_SECOND + sub_ns


def _utc(epoch_ns):
    seconds, sub = divmod(epoch_ns, NS_PER_SECOND)
    return datetime.fromtimestamp(seconds, UTC), sub


def _zone(name):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HotRuntimeError(f"unknown time zone '{name}'") from None


def _offset_text(offset):
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zoned(epoch_ns, zone_name):
    seconds, sub = divmod(epoch_ns, NS_PER_SECOND)
    local = datetime.fromtimestamp(seconds, _zone(zone_name))
    fields = {**_date_fields(local), **_time_fields(local.hour, local.minute, local.second, sub)}
    value = {
        "epochNanoseconds": epoch_ns,
        "timezone": zone_name,
        "offset": _offset_text(local.utcoffset()),
        **fields,
        "calendar": "iso8601",
    }
    return TypedVal(ZONED, value)


# -- parsing ----------------------------------------------------------------------------------
_DATE = r"(?P<year>[+-]?\d{4,6})-(?P<month>\d{2})-(?P<day>\d{2})"
_TIME = r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
_OFFSET = r"(?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?"
_ZONE = r"(?:\[(?P<zone>[^\]]+)\])?"
DATE_RE = re.compile(_DATE)
TIME_RE = re.compile(_TIME)
DATETIME_RE = re.compile(_DATE + r"[T ]" + _TIME + _OFFSET + _ZONE)
DURATION_RE = re.compile(
    r"(?P<sign>[+-])?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?"
    r"(?:(?P<seconds>\d+)(?:[.,](?P<frac>\d{1,9}))?S)?)?"
)


def _frac_ns(frac):
    return int((frac or "").ljust(9, "0")) if frac else 0


def _match(regex, text, what):
    m = regex.fullmatch(text.strip()) if text.__class__ is str else None
    if m is None:
        raise HotRuntimeError(f"{what}: cannot parse {hot_str(text)!r}")
    return m


def _fields_of_match(m):
    g = m.groupdict()
    out = {}
    for k in DATE_FIELDS + ("hour", "minute", "second"):
        if g.get(k) is not None:
            out[k] = int(g[k])
    if "hour" in out:
        out.setdefault("second", 0)
        out.update(_split_ns(_frac_ns(g.get("frac"))))
    return out


def parse_plain_date(text):
    f = _fields_of_match(_match(DATE_RE, text, "PlainDate"))
    return _make_date(f["year"], f["month"], f["day"])


def parse_plain_time(text):
    f = _fields_of_match(_match(TIME_RE, text, "PlainTime"))
    return _make_time(f["hour"], f["minute"], f["second"], _sub_ns(f))


def parse_plain_date_time(text):
    m = DATETIME_RE.fullmatch(text.strip()) if text.__class__ is str else None
    if m is None:
        return _make_pdt(datetime.combine(_date_of(parse_plain_date(text)), datetime.min.time()))
    dt, sub = _naive(_fields_of_match(m))
    return _make_pdt(dt, sub)


def _date_of(v):
    f = v.value
    return date(f["year"], f["month"], f["day"])


def _parse_offset(text):
    if text in ("Z", "z"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)


def parse_zoned(text):
    m = _match(DATETIME_RE, text, "ZonedDateTime")
    dt, sub = _naive(_fields_of_match(m))
    zone_name, offset = m.group("zone"), m.group("offset")
    if zone_name is None and offset is None:
        raise HotRuntimeError(f"ZonedDateTime: {text!r} has no time zone")
    if offset is not None:
        epoch = _epoch_ns_of_naive(dt, sub) - _parse_offset(offset) * NS_PER_SECOND
    else:
        epoch = _epoch_ns_of_naive(dt, sub, _zone(zone_name))
    return _zoned(epoch, zone_name or ("UTC" if offset in ("Z", "z") else offset))


def parse_instant(text):
    m = _match(DATETIME_RE, text, "Instant")
    if m.group("offset") is None:
        raise HotRuntimeError(f"Instant: {text!r} has no UTC offset")
    dt, sub = _naive(_fields_of_match(m))
    return _instant(_epoch_ns_of_naive(dt, sub) - _parse_offset(m.group("offset")) * NS_PER_SECOND)


@lib(T, "parse")
def parse(text):
    """A PlainDateTime, PlainDate or PlainTime, by the shape of the text."""
    s = text.strip() if text.__class__ is str else text
    if s.__class__ is str and TIME_RE.fullmatch(s):
        return parse_plain_time(s)
    if s.__class__ is str and DATE_RE.fullmatch(s):
        return parse_plain_date(s)
    return parse_plain_date_time(text)


@lib(T, "parse-duration")
def parse_duration(text):
    m = _match(DURATION_RE, text, "Duration")
    g = m.groupdict()
    sign = -1 if g["sign"] == "-" else 1
    parts = {k: sign * int(g[k]) for k in DURATION_FIELDS if g.get(k)}
    if g["frac"]:
        parts.update({k: sign * v for k, v in _split_units(_frac_ns(g["frac"])).items()})
    return _duration(parts)


def _split_units(sub_ns):
    """The same split as _split_ns, under Duration's plural component names."""
    return {f"{unit}s": amount for unit, amount in _split_ns(sub_ns).items()}


# -- Str() forms ------------------------------------------------------------------------------
def _frac_text(sub_ns):
    return ("." + f"{sub_ns:09d}".rstrip("0")) if sub_ns else ""


def _date_text(f):
    y = f["year"]
    year = f"{y:04d}" if 0 <= y <= 9999 else f"{'+' if y > 0 else '-'}{abs(y):06d}"
    return f"{year}-{f['month']:02d}-{f['day']:02d}"


def _time_text(f):
    return f"{f['hour']:02d}:{f['minute']:02d}:{f['second']:02d}{_frac_text(_sub_ns(f))}"


def _duration_number(v):
    return str(v) if v.__class__ is int else format(Decimal(v).normalize(), "f")


def _duration_text(f):
    values = {k: f.get(k) or 0 for k in DURATION_FIELDS}
    negative = any(v < 0 for v in values.values())
    values = {k: abs(v) for k, v in values.items()}
    date_part = "".join(
        f"{_duration_number(values[k])}{u}"
        for k, u in (("years", "Y"), ("months", "M"), ("weeks", "W"), ("days", "D"))
        if values[k]
    )
    sub = sum(values[k] * UNIT_NS[k] for k in ("milliseconds", "microseconds", "nanoseconds"))
    seconds = values["seconds"] + Decimal(sub) / NS_PER_SECOND
    time_part = "".join(
        f"{_duration_number(values[k])}{u}"
        for k, u in (("hours", "H"), ("minutes", "M"))
        if values[k]
    )
    if seconds:
        time_part += f"{_duration_number(seconds)}S"
    if not date_part and not time_part:
        return "PT0S"
    return ("-" if negative else "") + "P" + date_part + (f"T{time_part}" if time_part else "")


@lib(T, "to-string")
def to_string(v):
    if v.__class__ is not TypedVal:
        return hot_str(v)
    f, t = v.value, v.type
    if t is PLAIN_DATE:
        return _date_text(f)
    if t is PLAIN_TIME:
        return _time_text(f)
    if t is PLAIN_DATE_TIME:
        return f"{_date_text(f)}T{_time_text(f)}"
    if t is INSTANT:
        dt, sub = _utc(f["epochNanoseconds"])
        clock = _time_fields(dt.hour, dt.minute, dt.second, sub)
        return f"{_date_text(_date_fields(dt))}T{_time_text(clock)}Z"
    if t is ZONED:
        return f"{_date_text(f)}T{_time_text(f)}{f['offset']}[{f['timezone']}]"
    if t is DURATION:
        return _duration_text(f)
    return hot_str(v.value)


# -- constructors -----------------------------------------------------------------------------
def _instant_ctor(*args):
    if len(args) != 1:
        raise HotRuntimeError("Instant: expected one argument")
    v = args[0]
    unit = _unit_of(v)
    if unit in ("Millisecond", "Microsecond", "Nanosecond"):
        scale = {"Millisecond": 1_000_000, "Microsecond": 1_000, "Nanosecond": 1}[unit]
        return _instant(v.value * scale)
    if _is(v, PLAIN_DATE) or _is(v, PLAIN_DATE_TIME):
        dt, sub = _naive(v.value)
        return _instant(_epoch_ns_of_naive(dt, sub))
    if _is(v, PLAIN_TIME):
        today = datetime.now(UTC).date()
        dt, sub = _naive({**_date_fields(today), **v.value})
        return _instant(_epoch_ns_of_naive(dt, sub))
    if _is(v, INSTANT):
        return v
    if _is(v, ZONED):
        return _instant(v.value["epochNanoseconds"])
    if v.__class__ is str:
        return parse_instant(v)
    if v.__class__ is dict and "epochNanoseconds" in v:
        return _instant(_int(v["epochNanoseconds"], "Instant"))
    raise HotRuntimeError(f"Instant: cannot make an Instant from {hot_str(v)}")


def _plain_date_ctor(*args):
    if not args:
        return now_plain_date()
    if len(args) == 3:
        return _make_date(*(_int(a, "PlainDate") for a in args))
    v = args[0]
    if v.__class__ is str:
        return parse_plain_date(v)
    if _is(v, PLAIN_DATE):
        return v
    if v.__class__ is TypedVal and v.type in (PLAIN_DATE_TIME, ZONED):
        return _make_date(*(v.value[k] for k in DATE_FIELDS))
    if v.__class__ is dict:
        return _make_date(*(_int(v.get(k), "PlainDate") for k in DATE_FIELDS))
    raise HotRuntimeError(f"PlainDate: cannot make a PlainDate from {hot_str(v)}")


def _plain_time_ctor(*args):
    if not args:
        return now_plain_time()
    if len(args) in (2, 3, 4):
        nums = [_int(a, "PlainTime") for a in args] + [0] * (4 - len(args))
        return _make_time(*nums)
    v = args[0]
    if v.__class__ is str:
        return parse_plain_time(v)
    if _is(v, PLAIN_TIME):
        return v
    if v.__class__ is TypedVal and v.type in (PLAIN_DATE_TIME, ZONED):
        return TypedVal(PLAIN_TIME, {k: v.value[k] for k in TIME_FIELDS})
    if v.__class__ is dict:
        f = {k: _int(v.get(k, 0), "PlainTime") for k in TIME_FIELDS}
        return _make_time(f["hour"], f["minute"], f["second"], _sub_ns(f))
    raise HotRuntimeError(f"PlainTime: cannot make a PlainTime from {hot_str(v)}")


def _plain_date_time_ctor(*args):
    if not args:
        return now_plain_date_time()
    if len(args) >= 3:
        nums = [_int(a, "PlainDateTime") for a in args]
        nums += [0] * (7 - len(nums))
        d = _make_date(*nums[:3])
        t = _make_time(nums[3], nums[4], nums[5], nums[6] * 1_000_000 if len(args) > 6 else 0)
        dt, sub = _naive({**d.value, **t.value})
        return _make_pdt(dt, sub)
    v = args[0]
    if v.__class__ is str:
        return parse_plain_date_time(v)
    if _is(v, PLAIN_DATE_TIME):
        return v
    if v.__class__ is TypedVal and v.type in (PLAIN_DATE, ZONED):
        dt, sub = _naive(v.value)
        return _make_pdt(dt, sub)
    raise HotRuntimeError(f"PlainDateTime: cannot make a PlainDateTime from {hot_str(v)}")


def _zoned_ctor(*args):
    if len(args) == 1 and args[0].__class__ is str:
        return parse_zoned(args[0])
    if len(args) == 1 and _is(args[0], ZONED):
        return args[0]
    if len(args) != 2 or args[1].__class__ is not str:
        raise HotRuntimeError("ZonedDateTime: expected an ISO string, or a value and a time zone")
    v, zone_name = args
    if _is(v, INSTANT) or _is(v, ZONED):
        return _zoned(v.value["epochNanoseconds"], zone_name)
    if v.__class__ is TypedVal and v.type in (PLAIN_DATE_TIME, PLAIN_DATE):
        dt, sub = _naive(v.value)
        return _zoned(_epoch_ns_of_naive(dt, sub, _zone(zone_name)), zone_name)
    raise HotRuntimeError(f"ZonedDateTime: cannot make a ZonedDateTime from {hot_str(v)}")


def _duration(parts):
    return TypedVal(DURATION, {k: parts.get(k, 0) for k in DURATION_FIELDS})


def _duration_ctor(*args):
    if len(args) != 1:
        raise HotRuntimeError("Duration: expected an ISO string or a Map of components")
    v = args[0]
    if v.__class__ is str:
        return parse_duration(v)
    if _is(v, DURATION):
        return v
    if v.__class__ is dict:
        unknown = [k for k in v if k not in DURATION_FIELDS]
        if unknown:
            raise HotRuntimeError(f"Duration: unknown component(s) {', '.join(unknown)}")
        return _duration({k: _number(x, k) for k, x in v.items()})
    raise HotRuntimeError(f"Duration: cannot make a Duration from {hot_str(v)}")


def _number(v, what):
    if v.__class__ is TypedVal:
        v = v.value
    if v.__class__ is int or v.__class__ is Decimal:
        return v
    raise HotRuntimeError(f"Duration: {what} must be a number, got {hot_str(v)}")


INSTANT = _record_type("Instant", ["epochNanoseconds"], _instant_ctor)
DURATION = _record_type("Duration", DURATION_FIELDS, _duration_ctor)
PLAIN_DATE = _record_type("PlainDate", DATE_FIELDS + ("calendar",), _plain_date_ctor)
PLAIN_TIME = _record_type("PlainTime", TIME_FIELDS, _plain_time_ctor)
PLAIN_DATE_TIME = _record_type(
    "PlainDateTime", DATE_FIELDS + TIME_FIELDS + ("calendar",), _plain_date_time_ctor
)
ZONED = _record_type(
    "ZonedDateTime",
    ("epochNanoseconds", "timezone", "offset") + DATE_FIELDS + TIME_FIELDS + ("calendar",),
    _zoned_ctor,
)


# -- now --------------------------------------------------------------------------------------
def _now_ns():
    return _time.time_ns()


@lib(T, "now")
def now():
    return _instant(_now_ns())


@lib(T, "now-zoned")
def now_zoned(zone_name="UTC"):
    return _zoned(_now_ns(), zone_name)


@lib(T, "now-plain-date-time")
def now_plain_date_time():
    dt, sub = _utc(_now_ns())
    return _make_pdt(dt.replace(tzinfo=None), sub)


@lib(T, "now-plain-date")
def now_plain_date():
    return _plain_date_ctor(now_plain_date_time())


@lib(T, "now-plain-time")
def now_plain_time():
    return _plain_time_ctor(now_plain_date_time())


# -- reading ----------------------------------------------------------------------------------
def _epoch_ns(v, what):
    if v is None:
        return _now_ns()
    if v.__class__ is str:
        return parse_instant(v).value["epochNanoseconds"]
    if v.__class__ is TypedVal and "epochNanoseconds" in v.value:
        return v.value["epochNanoseconds"]
    if v.__class__ is TypedVal and v.type in (PLAIN_DATE, PLAIN_DATE_TIME):
        return _instant_ctor(v).value["epochNanoseconds"]
    raise HotRuntimeError(f"{what}: expected an Instant, got {hot_str(v)}")


@lib(T, "epoch-nanos")
def epoch_nanos(v=None):
    return _epoch_ns(v, "epoch-nanos")


@lib(T, "epoch-millis")
def epoch_millis(v=None):
    return _epoch_ns(v, "epoch-millis") // 1_000_000


@lib(T, "epoch-seconds")
def epoch_seconds(v=None):
    return _epoch_ns(v, "epoch-seconds") // NS_PER_SECOND


def _getter(field):
    def get(v):
        if v.__class__ is not TypedVal or field not in v.value:
            raise HotRuntimeError(f"{field}: expected a date or time value, got {hot_str(v)}")
        return v.value[field]

    return get


for _field in DATE_FIELDS + TIME_FIELDS:
    lib(T, _field)(_getter(_field))


# -- zones ------------------------------------------------------------------------------------
@lib(T, "with-timezone")
def with_timezone(zdt, zone_name):
    return _zoned(_epoch_ns(zdt, "with-timezone"), zone_name)


@lib(T, "to-plain-date-time")
def to_plain_date_time(v):
    return _plain_date_time_ctor(v)


@lib(T, "to-plain-date")
def to_plain_date(v):
    return _plain_date_ctor(v)


@lib(T, "to-plain-time")
def to_plain_time(v):
    return _plain_time_ctor(v)


@lib(T, "to-instant")
def to_instant(v):
    return _instant_ctor(v)


# -- durations and arithmetic -----------------------------------------------------------------
def _unit_duration(component):
    return lambda amount: _duration({component: _number(amount, component)})


for _component in ("years", "months", "weeks", "days", "hours", "minutes", "seconds"):
    lib(T, _component)(_unit_duration(_component))


@lib(T, "duration")
def duration(components):
    return _duration_ctor(components)


def _add_months(dt, months):
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def _whole(v, what):
    if v.__class__ is Decimal and v != v.to_integral_value():
        raise HotRuntimeError(f"{what}: years and months must be whole numbers")
    return int(v)


def _shift(v, dur, sign):
    if not _is(dur, DURATION):
        raise HotRuntimeError(f"expected a Duration, got {hot_str(dur)}")
    d = dur.value
    months = sign * (_whole(d["years"], "add") * 12 + _whole(d["months"], "add"))
    exact_ns = sign * int(sum(Decimal(d[k]) * UNIT_NS[k] for k in UNIT_NS))
    if _is(v, INSTANT) or _is(v, ZONED):
        if months:
            raise HotRuntimeError("years and months cannot be added to an exact time")
        epoch = v.value["epochNanoseconds"] + exact_ns
        return _instant(epoch) if _is(v, INSTANT) else _zoned(epoch, v.value["timezone"])
    dt, sub = _naive(_plain_date_time_ctor(v).value)
    dt = _add_months(dt, months)
    days, rest = divmod(sub + exact_ns, NS_PER_DAY)
    seconds, sub = divmod(rest, NS_PER_SECOND)
    shifted = _make_pdt(dt.replace(microsecond=0) + timedelta(days=days, seconds=seconds), sub)
    return _plain_date_ctor(shifted) if _is(v, PLAIN_DATE) else shifted


@lib(T, "add")
def add(v, dur):
    return _shift(v, dur, 1)


@lib(T, "subtract")
def subtract(v, dur):
    return _shift(v, dur, -1)


def _difference(start, end):
    """end - start as a Duration balanced up to days (Temporal's default for until/since)."""
    total = _absolute_ns(end) - _absolute_ns(start)
    sign = -1 if total < 0 else 1
    rest = abs(total)
    parts = {}
    for unit in ("days", "hours", "minutes", "seconds", "milliseconds", "microseconds"):
        parts[unit], rest = divmod(rest, UNIT_NS[unit])
    parts["nanoseconds"] = rest
    return _duration({k: sign * v for k, v in parts.items()})


def _absolute_ns(v):
    if v.__class__ is TypedVal and "epochNanoseconds" in v.value:
        return v.value["epochNanoseconds"]
    dt, sub = _naive(_plain_date_time_ctor(v).value)
    return _epoch_ns_of_naive(dt, sub)


@lib(T, "until")
def until(start, end):
    return _difference(start, end)


@lib(T, "since")
def since(later, earlier):
    return _difference(earlier, later)


@lib(T, "start-of-day")
def start_of_day(v):
    d = _plain_date_ctor(v)
    return _make_pdt(datetime.combine(_date_of(d), datetime.min.time()))


@lib(T, "end-of-day")
def end_of_day(v):
    d = _plain_date_ctor(v)
    return _make_pdt(
        datetime.combine(_date_of(d), datetime.min.time()).replace(hour=23, minute=59, second=59)
    )


@lib(T, "within-seconds-of-now")
def within_seconds_of_now(timestamp, tolerance):
    """A Unix timestamp (Int, or numeric Str) within `tolerance` seconds of now; anything
    else is false (fails closed)."""
    try:
        seconds = int(Decimal(timestamp.strip() if timestamp.__class__ is str else timestamp))
    except Exception:
        return False
    return abs(_now_ns() // NS_PER_SECOND - seconds) <= _int(tolerance, "within-seconds-of-now")


# -- format -----------------------------------------------------------------------------------
FORMAT_TOKEN = re.compile(
    r"\[[^\]]*\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|ss|SSS|A|a|z|Z|X"
)
# zones whose IANA abbreviation is numeric ("-03") but which have a customary name
ZONE_NAMES = {
    "America/Sao_Paulo": "BRT",
    "America/Argentina/Buenos_Aires": "ART",
    "America/Buenos_Aires": "ART",
    "America/Bogota": "COT",
    "America/Lima": "PET",
    "America/Santiago": "CLT",
    "Asia/Dubai": "GST",
    "Asia/Singapore": "SGT",
    "Asia/Bangkok": "ICT",
    "Asia/Ho_Chi_Minh": "ICT",
    "Asia/Kuala_Lumpur": "MYT",
    "Asia/Manila": "PHT",
    "Asia/Riyadh": "AST",
    "Asia/Tehran": "IRST",
    "Asia/Kathmandu": "NPT",
    "Asia/Dhaka": "BST",
    "Europe/Istanbul": "TRT",
}


def _zone_abbreviation(f):
    zone_name = f.get("timezone")
    if zone_name is None:
        return ""
    local = datetime.fromtimestamp(f["epochNanoseconds"] // NS_PER_SECOND, _zone(zone_name))
    name = local.tzname() or ""
    if name[:1] in "+-" and zone_name in ZONE_NAMES:
        return ZONE_NAMES[zone_name]
    return name


def _token_value(token, f):
    hour = f.get("hour", 0)
    weekday = date(f["year"], f["month"], f["day"]).weekday() if "day" in f else 0
    values = {
        "YYYY": lambda: f"{f['year']:04d}",
        "YY": lambda: f"{f['year'] % 100:02d}",
        "MMMM": lambda: calendar.month_name[f["month"]],
        "MMM": lambda: calendar.month_abbr[f["month"]],
        "MM": lambda: f"{f['month']:02d}",
        "M": lambda: str(f["month"]),
        "DD": lambda: f"{f['day']:02d}",
        "D": lambda: str(f["day"]),
        "dddd": lambda: calendar.day_name[weekday],
        "ddd": lambda: calendar.day_abbr[weekday],
        "HH": lambda: f"{hour:02d}",
        "H": lambda: str(hour),
        "hh": lambda: f"{(hour % 12) or 12:02d}",
        "h": lambda: str((hour % 12) or 12),
        "mm": lambda: f"{f.get('minute', 0):02d}",
        "ss": lambda: f"{f.get('second', 0):02d}",
        "SSS": lambda: f"{f.get('millisecond', 0):03d}",
        "A": lambda: "PM" if hour >= 12 else "AM",
        "a": lambda: "pm" if hour >= 12 else "am",
        "z": lambda: _zone_abbreviation(f),
        "Z": lambda: f.get("offset", "+00:00"),
        "X": lambda: str(_absolute_ns(TypedVal(ZONED, f)) // NS_PER_SECOND),
    }
    return values[token]()


def _format_fields(v):
    if _is(v, INSTANT):
        return _zoned(v.value["epochNanoseconds"], "UTC").value
    if v.__class__ is TypedVal and v.type in (PLAIN_DATE, PLAIN_TIME, PLAIN_DATE_TIME, ZONED):
        f = dict(v.value)
        if "epochNanoseconds" not in f and "day" in f:
            f["epochNanoseconds"] = _absolute_ns(_plain_date_time_ctor(v))
        return f
    raise HotRuntimeError(f"format: expected a date or time value, got {hot_str(v)}")


@lib(T, "format")
def format_(v, pattern):
    f = _format_fields(v)

    def replace(m):
        token = m.group(0)
        if token.startswith("["):
            return token[1:-1]
        try:
            return _token_value(token, f)
        except KeyError:
            raise HotRuntimeError(f"format: {token} needs a date or time that has it") from None

    return FORMAT_TOKEN.sub(replace, pattern)


# -- hotlang's earlier ISO helpers, kept for code written against them --------------------------
@lib(T, "format-iso")
def format_iso(ms):
    return to_string(_instant(_int(ms, "format-iso") * 1_000_000))


@lib(T, "parse-iso")
def parse_iso(s):
    try:
        return parse_instant(s).value["epochNanoseconds"] // 1_000_000
    except HotRuntimeError as e:
        return Err(e.message)
