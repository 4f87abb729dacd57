"""The gunicorn worker collects what the last request left in reference cycles before the next
one (``hotapi.gunicorn_conf.pre_request``), once there is enough of it."""

import gc
import types
import weakref

import pytest

from hotapi import gunicorn_conf

WORKER = types.SimpleNamespace()


class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def collector_off(monkeypatch):
    """No automatic collection during the test: only the ones it makes happen."""
    monkeypatch.setattr(gunicorn_conf, "gc_between_requests", 500)
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def cyclic_garbage(count: int) -> list[weakref.ref]:
    nodes = [Node() for _ in range(count)]
    return [weakref.ref(node) for node in nodes]


def test_garbage_beyond_the_threshold_is_collected_before_the_next_request(collector_off):
    garbage = cyclic_garbage(600)
    assert gc.get_count()[0] > 500
    gunicorn_conf.pre_request(WORKER, None)
    assert all(ref() is None for ref in garbage)


def test_garbage_promoted_by_a_collection_during_a_request_is_collected(collector_off):
    nodes = [Node() for _ in range(10)]
    garbage = [weakref.ref(node) for node in nodes]
    gc.collect(0)  # while the request's objects were alive: promoted to generation 1
    del nodes
    gunicorn_conf.pre_request(WORKER, None)
    assert all(ref() is None for ref in garbage)


def test_little_garbage_waits(collector_off):
    garbage = cyclic_garbage(10)
    gunicorn_conf.pre_request(WORKER, None)
    assert all(ref() is not None for ref in garbage)  # left to a later request
    gc.collect()
    assert all(ref() is None for ref in garbage)


def test_zero_turns_it_off(collector_off, monkeypatch):
    monkeypatch.setattr(gunicorn_conf, "gc_between_requests", 0)
    garbage = cyclic_garbage(600)
    gunicorn_conf.pre_request(WORKER, None)
    assert all(ref() is not None for ref in garbage)
