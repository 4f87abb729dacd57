"""::hot::time: Temporal-style values, zones, durations and formatting."""

import pytest

from .helpers import expr, run, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Str(::hot::time/PlainDate(2024, 2, 29))", "2024-02-29"),
        ('Str(::hot::time/PlainTime("07:05:09.120"))', "07:05:09.12"),
        ("Str(::hot::time/PlainDateTime(2024, 12, 25, 14, 30, 45))", "2024-12-25T14:30:45"),
        ("Str(::hot::time/Instant(::hot::time/Millisecond(0)))", "1970-01-01T00:00:00Z"),
        ("Str(::hot::time/Duration({hours: 2, minutes: 30}))", "PT2H30M"),
        ('Str(::hot::time/Duration("P1Y2M3DT4H5M6.5S"))', "P1Y2M3DT4H5M6.5S"),
        ("Str(::hot::time/Duration({}))", "PT0S"),
        ("Int(::hot::time/Day(7))", 7),
    ],
)
def test_values_render_in_iso_form(text, expected):
    assert expr(text) == expected


def test_zones_come_from_the_iana_database():
    src = """
main fn () {
  z ::hot::time/ZonedDateTime("2026-03-08T01:30:00-05:00[America/New_York]")
  later ::hot::time/add(z, ::hot::time/hours(1))
  tokyo ::hot::time/with-timezone(z, "Asia/Tokyo")
  [Str(later), tokyo.hour, ::hot::time/format(later, "z Z"), Str(::hot::time/to-instant(z))]
}
"""
    # the DST jump in New York: one hour after 01:30 EST is 03:30 EDT
    assert value(src) == [
        "2026-03-08T03:30:00-04:00[America/New_York]",
        15,
        "EDT -04:00",
        "2026-03-08T06:30:00Z",
    ]


def test_calendar_arithmetic_clamps_to_the_end_of_the_month():
    src = """
main fn () {
  d ::hot::time/PlainDateTime(2024, 1, 31, 8, 0, 0)
  [Str(::hot::time/add(d, ::hot::time/months(1))),
   Str(::hot::time/subtract(d, ::hot::time/Duration("P1DT9H"))),
   ::hot::time/until(d, ::hot::time/PlainDateTime(2024, 2, 2, 9, 30, 0)).hours]
}
"""
    assert value(src) == ["2024-02-29T08:00:00", "2024-01-29T23:00:00", 1]


def test_format_tokens_and_literals():
    src = """
main fn () {
  ::hot::time/format(::hot::time/PlainDateTime(2026, 2, 17, 0, 5, 0), "[on ]ddd, MMM D YY h:mm a")
}
"""
    assert value(src) == "on Tue, Feb 17 26 12:05 am"


def test_values_carry_their_type_in_json_and_bad_input_is_a_hot_error():
    assert expr("::hot::time/Instant(::hot::time/Millisecond(1000))") == {
        "$type": "::hot::time/Instant",
        "$val": {"epochNanoseconds": 1_000_000_000},
    }
    src = 'main fn () { ::hot::time/ZonedDateTime("2026-01-01T00:00:00[Nowhere/City]") }\n'

    out = run(src)
    assert out.status == "failed" and "unknown time zone 'Nowhere/City'" in out.error
