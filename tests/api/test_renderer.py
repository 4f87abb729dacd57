"""The orjson envelope renderer writes the same bytes as DRF's JSONRenderer did."""

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.functional import lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from hotapi.api.renderers import FastJSONRenderer

drf, fast = JSONRenderer(), FastJSONRenderer()


@dataclass
class Point:
    x: int


SPECIAL = {
    "uuid": uuid.UUID("01a22bbf-5ec0-7248-91b7-e648d8b7a455"),
    "utc": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    "utc_micro": dt.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC),
    "zoned": dt.datetime(2026, 7, 2, 3, 4, 5, 600000, tzinfo=ZoneInfo("Europe/Berlin")),
    "london_winter": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Europe/London")),
    "naive": dt.datetime(2026, 1, 2, 3, 4, 5),
    "date": dt.date(2026, 1, 2),
    "time": dt.time(3, 4, 5, 6),
    "duration": dt.timedelta(days=1, seconds=3, microseconds=5),
    "decimals": [Decimal("1.50"), Decimal("0"), Decimal("-12345678901234.25")],
    "lazy": lazy(lambda: "translated", str)(),
    "bytes": b"raw",
    "set_like": (1, 2),
    "keys": {1: "int key", False: "bool key", None: "none key", 2.5: "float key"},
    "separators": "line\u2028paragraph\u2029 end",
    "controls": 'tab\tnew\nnull\x00bell\x07 del\x7f quote" backslash\\ é 漢 😀',
    "big": 2**70,
}


def test_special_values_render_identically():
    for name, value in SPECIAL.items():
        data = {"data": {name: value}, "meta": {"request_id": "r"}}
        assert fast.render(data) == drf.render(data), name


def test_what_orjson_cannot_write_is_rendered_by_drf():
    assert fast.render({"big": 2**70}) == b'{"big":1180591620717411303424}'
    assert fast.render(None) == b""
    pretty = "application/json; indent=2"
    assert fast.render({"a": 1}, pretty, {}) == drf.render({"a": 1}, pretty, {})
    for renderer in (fast, drf):  # what DRF refused, it still refuses
        with pytest.raises(TypeError):
            renderer.render({"p": Point(1)})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(json_values)
def test_json_values_render_identically(value):
    assert fast.render({"data": value}) == drf.render({"data": value})


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_render_the_same_number(value):
    assert json.loads(fast.render({"v": value})) == json.loads(drf.render({"v": value}))
