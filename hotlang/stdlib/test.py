"""Assertions: `::hot::test`."""

from __future__ import annotations

from ..calls import consume
from ..errors import HotHalt
from ..state import current
from ..values import (
    Err,
    hot_eq,
    hot_str,
    repr_value,
    truthy,
)
from .registry import lib

TEST = "::hot::test"


def _record_failure(msg):
    if current().test_failures is not None:
        current().test_failures.append(msg)
        return False
    raise HotHalt(msg, {"message": msg}, kind="assert")


@lib(TEST, "assert", core=True, mode="raw")
def assert_(pred, desc=None):
    if pred.__class__ is Err or not truthy(pred):
        where = f": {hot_str(consume(desc))}" if desc is not None else ""
        return _record_failure(f"assertion failed{where}")
    return True


@lib(TEST, "assert-eq", core=True, mode="raw")
def assert_eq(expected, actual, desc=None):
    if hot_eq(expected, actual):
        return True
    d = f"{hot_str(consume(desc))}: " if desc is not None else ""
    return _record_failure(f"{d}expected {repr_value(expected)}, got {repr_value(actual)}")


@lib(TEST, "assert-ne", core=True, mode="raw")
def assert_ne(expected, actual, desc=None):
    if not hot_eq(expected, actual):
        return True
    d = f"{hot_str(consume(desc))}: " if desc is not None else ""
    return _record_failure(f"{d}expected a value other than {repr_value(expected)}")
