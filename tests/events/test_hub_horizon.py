"""The stream hub never passes a missing id while its transaction may still commit (PostgreSQL
commits out of id order; SQLite cannot, its writers are serialized)."""

import threading

import pytest
from django.db import connection, transaction

from events import streamlog
from events.hub import StreamHub
from events.models import Stream, StreamEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _append(environment, stream, kind="stream:data"):
    return streamlog.append(
        environment_id=environment.id, stream_id=stream.id, kind=kind, payload={"n": kind}
    )


class SlowWriter(threading.Thread):
    """Appends an entry in a transaction that stays open until told to commit or roll back."""

    def __init__(self, environment, stream, *, commit: bool):
        super().__init__()
        self.environment, self.stream, self.commit = environment, stream, commit
        self.appended = threading.Event()
        self.finish = threading.Event()
        self.entry_id = None

    def run(self):
        try:
            with transaction.atomic():
                Stream.objects.create(environment=self.environment)  # a write comes first
                self.entry_id = _append(self.environment, self.stream, "slow").id
                self.appended.set()
                self.finish.wait(timeout=30)
                if not self.commit:
                    transaction.set_rollback(True)
        finally:
            connection.close()


def _hub_after_existing_entries() -> tuple[StreamHub, list]:
    hub = StreamHub()
    hub._cursor = StreamEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    delivered: list = []
    hub._dispatch = lambda entries: (
        delivered.extend(entries),
        setattr(hub, "_cursor", entries[-1].id),
    )
    return hub, delivered


@pytest.mark.parametrize("commit", [True, False])
def test_a_later_entry_waits_for_an_earlier_one_in_flight(environment, commit):
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL lets a later id commit while an earlier one is in flight")
    stream = Stream.objects.create(environment=environment)
    hub, delivered = _hub_after_existing_entries()
    slow = SlowWriter(environment, stream, commit=commit)
    slow.start()
    assert slow.appended.wait(timeout=10)
    later = _append(environment, stream, "later")
    assert later.id > slow.entry_id
    try:
        # However long the earlier transaction takes, nothing after it is passed.
        for _ in range(5):
            assert hub.poll_once() == 0
        assert delivered == []
    finally:
        slow.finish.set()
        slow.join(timeout=30)
    hub.poll_once()
    expected = [slow.entry_id, later.id] if commit else [later.id]
    assert [entry.id for entry in delivered] == expected
    assert hub._cursor == later.id


def test_a_rolled_back_entry_is_passed_over(environment):
    stream = Stream.objects.create(environment=environment)
    hub, delivered = _hub_after_existing_entries()
    with transaction.atomic():
        Stream.objects.create(environment=environment)
        _append(environment, stream, "rolled-back")
        transaction.set_rollback(True)
    later = _append(environment, stream, "later")
    # SQLite passes the gap at once; PostgreSQL once it has checked that the inserting
    # transaction ended (on the next poll).
    assert hub.poll_once() + hub.poll_once() == 1
    assert [entry.id for entry in delivered] == [later.id]
