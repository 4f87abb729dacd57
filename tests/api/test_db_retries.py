"""hotapi.db: deadlocks and serialization failures are retried whole; a lost connection only
where the caller says repeating is safe; never inside someone else's transaction."""

import pytest
from django.db import OperationalError, transaction

from hotapi.db import is_conflict, is_connection_loss, run_with_retries


class _Cause(Exception):
    def __init__(self, sqlstate):
        self.sqlstate = sqlstate


def _error(sqlstate: str | None) -> OperationalError:
    error = OperationalError("boom")
    error.__cause__ = _Cause(sqlstate)
    return error


def _failing(times: int, sqlstate: str | None):
    calls = {"n": 0}

    def work():
        calls["n"] += 1
        if calls["n"] <= times:
            raise _error(sqlstate)
        return "done"

    return work, calls


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_conflicts_are_retried(sqlstate):
    work, calls = _failing(3, sqlstate)
    assert is_conflict(_error(sqlstate)) and not is_connection_loss(_error(sqlstate))
    assert run_with_retries(work, what="test") == "done"
    assert calls["n"] == 4


def test_conflicts_give_up_after_the_attempts():
    work, calls = _failing(10, "40P01")
    with pytest.raises(OperationalError):
        run_with_retries(work, what="test", attempts=3)
    assert calls["n"] == 3


def test_a_lost_connection_is_retried_only_when_asked():
    work, calls = _failing(2, None)
    assert is_connection_loss(_error(None))
    with pytest.raises(OperationalError):
        run_with_retries(work, what="test")
    assert calls["n"] == 1
    assert run_with_retries(work, what="test", reconnect_for=5) == "done"


@pytest.mark.django_db
def test_inside_a_transaction_nothing_is_retried():
    work, calls = _failing(1, "40P01")
    with pytest.raises(OperationalError), transaction.atomic():
        run_with_retries(work, what="test")
    assert calls["n"] == 1
