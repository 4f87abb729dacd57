"""``hotapi.sql``: statements built once from the models, bound as the ORM binds them."""

import contextlib
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from environments.models import Environment
from events.models import Event, Stream
from hotapi import sql
from projects.models import Project

pytestmark = pytest.mark.django_db


def test_row_where_loads_what_the_orm_loads(environment):
    found = sql.row_where(Environment, {"id": environment.pk})
    expected = Environment.objects.get(pk=environment.pk)
    assert model_to_dict(found) == model_to_dict(expected)
    assert found.created_at == expected.created_at and found.pk == expected.pk
    assert sql.row_where(Environment, {"id": uuid.uuid4()}) is None


def test_row_where_converts_values_as_the_orm_does(environment):
    """JSON decoded, booleans and datetimes typed, on SQLite as on PostgreSQL; the instance is
    a saved row (an update through it changes that row)."""
    stream = Stream.objects.create(environment=environment)
    payload = {"n": 1, "nested": [True, None, "x"]}
    event = Event.objects.create(
        environment=environment,
        stream=stream,
        event_type="a:b",
        event_data=payload,
        event_time=timezone.now(),
    )
    found = sql.row_where(Event, {"id": event.pk})
    assert found.event_data == payload and found.stream_id == stream.pk
    assert model_to_dict(found) == model_to_dict(Event.objects.get(pk=event.pk))
    assert found._state.adding is False and found._state.db == "default"
    assert sql.row_where(Environment, {"id": environment.pk}).active is True
    found.event_type = "a:c"
    found.save(update_fields=["event_type"])
    assert Event.objects.get(pk=event.pk).event_type == "a:c"


def test_value_rows_reads_what_values_list_reads(environment):
    """Foreign keys by attname, UUIDs, JSON and datetimes converted as ``values_list`` converts
    them, on SQLite (hex UUIDs, JSON text) as on PostgreSQL."""
    stream = Stream.objects.create(environment=environment)
    payloads = [{"n": 1, "nested": [True, None, "x"]}, {"n": 2}]
    for payload in payloads:
        Event.objects.create(
            environment=environment,
            stream=stream,
            event_type="a:b",
            event_data=payload,
            event_time=timezone.now(),
        )
    fields = ("id", "environment_id", "stream_id", "event_data", "event_time")
    query = (
        f"SELECT {sql.columns(Event, fields)} FROM {sql.table(Event)}"
        f" WHERE {sql.column(Event, 'stream')} = %s ORDER BY {sql.column(Event, 'event_time')}"
    )
    rows = sql.value_rows(Event, fields, query, [sql.db_value(Event, "stream", stream.pk)])
    expected = Event.objects.filter(stream=stream).order_by("event_time").values_list(*fields)
    assert rows == [list(row) for row in expected]
    assert [row[3] for row in rows] == payloads and rows[0][2] == stream.pk


def test_row_where_locks_and_reads_extra_expressions(project):
    count = (
        f"(SELECT COUNT(*) FROM {sql.table(Project)} "
        f"WHERE {sql.column(Project, 'environment')} = {sql.column_of(Environment, 'id')})"
    )
    with transaction.atomic():
        found = sql.row_where(
            Environment, {"id": project.environment_id}, lock=True, extra={"n": count}
        )
    assert found.pk == project.environment_id and found.n == 1


def test_a_lookup_value_selected_by_a_subquery(project):
    """``Selected``: the row whose field equals what a subquery selects, its parameters bound
    in place; none when the subquery selects nothing."""
    environment_of = (
        f"SELECT {sql.column(Project, 'environment')} FROM {sql.table(Project)} "
        f"WHERE {sql.column(Project, 'name')} = %s"
    )
    found = sql.row_where(Environment, {"id": sql.Selected(environment_of, (project.name,))})
    assert found.pk == project.environment_id
    assert sql.row_where(Environment, {"id": sql.Selected(environment_of, ("nope",))}) is None


def test_scalar_and_db_value(environment):
    statement = (
        f"SELECT {sql.column(Environment, 'name')} FROM {sql.table(Environment)} "
        f"WHERE {sql.column(Environment, 'id')} = %s"
    )
    assert sql.scalar(statement, [sql.db_value(Environment, "id", environment.pk)]) == (
        environment.name
    )
    assert sql.scalar(statement, [sql.db_value(Environment, "id", uuid.uuid4())]) is None


def _event(environment, stream, event_type: str, data) -> Event:
    return Event(
        environment=environment,
        stream=stream,
        event_type=event_type,
        event_data=data,
        event_time=timezone.now(),
    )


def test_insert_and_update_statements_write_what_the_orm_would(environment):
    stream = Stream(environment=environment)
    first, second = (
        _event(environment, stream, "a:b", {"n": 1, "list": [1, "x", None]}),
        _event(environment, stream, "a:c", "text"),
    )
    fields = tuple(field.name for field in Event._meta.concrete_fields)
    with transaction.atomic():
        sql.run_together(
            [
                sql.insert_statement([stream], ("id", "environment", "created_at")),
                sql.insert_statement([first, second], fields),
            ]
        )
    # auto_now_add is filled in on the instances, as save() does
    assert stream.created_at is not None and first.created_at is not None
    for event in (first, second):
        assert model_to_dict(Event.objects.get(pk=event.pk)) == model_to_dict(event)
    first.handled_runs, first.dispatched_at = 3, timezone.now()
    assert sql.run_together([sql.update_statement(first, ("handled_runs", "dispatched_at"))]) == [1]
    stored = Event.objects.get(pk=first.pk)
    assert (stored.handled_runs, stored.dispatched_at) == (3, first.dispatched_at)
    assert Event.objects.get(pk=second.pk).handled_runs == 0


def test_run_together_runs_in_order_and_returns_each_result(environment, django_assert_num_queries):
    """Each statement sees the ones before it; rows for those that return rows, the changed
    row count for the others; one round trip on PostgreSQL."""
    count = (
        f"SELECT COUNT(*) FROM {sql.table(Stream)} WHERE {sql.column(Stream, 'environment')} = %s"
    )
    env = [sql.db_value(Stream, "environment", environment.pk)]
    delete = f"DELETE FROM {sql.table(Stream)} WHERE {sql.column(Stream, 'id')} = %s"
    streams = [Stream(environment=environment) for _ in range(2)]
    one_round_trip = connection.vendor == "postgresql"
    with django_assert_num_queries(1 if one_round_trip else 3):
        results = sql.run_together(
            [
                sql.insert_statement(streams, ("id", "environment", "created_at")),
                (count, env),
                (delete, [sql.db_value(Stream, "id", streams[0].pk)]),
            ]
        )
    assert results == [2, [(2,)], 1]
    assert list(Stream.objects.values_list("pk", flat=True)) == [streams[1].pk]


def test_run_together_sends_a_statement_per_query_with_server_side_binding(
    environment, django_assert_num_queries, monkeypatch
):
    """Several statements in one query string need client-side binding: with server-side
    binding they go one by one (the result is the same)."""
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", {"server_side_binding": True})
    count = f"SELECT COUNT(*) FROM {sql.table(Stream)}"
    with django_assert_num_queries(2):
        assert sql.run_together([(count, []), (count, [])]) == [[(0,)], [(0,)]]


@pytest.mark.django_db(transaction=True)
def test_run_atomically_writes_all_or_nothing_outside_a_transaction(
    environment, django_assert_num_queries
):
    """On PostgreSQL the statements go as one string, which the database runs as one
    transaction (no BEGIN and COMMIT round trips); a failing statement undoes the others."""
    first, second = Stream(environment=environment), Stream(environment=environment)
    one_round_trip = connection.vendor == "postgresql"
    with django_assert_num_queries(1) if one_round_trip else contextlib.nullcontext():
        sql.run_atomically([sql.insert_statement([first]), sql.insert_statement([second])])
    assert Stream.objects.count() == 2
    third = Stream(environment=environment)
    with pytest.raises(IntegrityError):  # ``first`` again: a duplicate key
        sql.run_atomically([sql.insert_statement([third]), sql.insert_statement([first])])
    assert not Stream.objects.filter(pk=third.pk).exists()
    assert Stream.objects.count() == 2


def _committed_stream_ids() -> set:
    """The streams another connection sees: what is committed."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT {sql.column(Stream, 'id')} FROM {sql.table(Stream)}")
            return {uuid.UUID(str(row[0])) for row in cursor.fetchall()}
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_run_and_commit_sends_the_commit_with_the_last_statements(
    environment, driver_commands, django_assert_num_queries
):
    """The outermost block's last statements carry its COMMIT on PostgreSQL: no COMMIT round
    trip of its own; the rows are committed and the on_commit callbacks run."""
    committed = []
    streams = [Stream(environment=environment) for _ in range(2)]
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append("callback"))
        sql.run_together([sql.insert_statement(streams[:1])])
        with django_assert_num_queries(1):
            sql.run_and_commit([sql.insert_statement(streams[1:])])
    assert committed == ["callback"]
    assert _committed_stream_ids() == {stream.pk for stream in streams}
    if connection.vendor == "postgresql":
        assert driver_commands == [b"BEGIN"]  # the COMMIT went in the query string


@pytest.mark.django_db(transaction=True)
def test_run_and_commit_in_a_savepoint_leaves_the_commit_to_the_outer_block(
    environment, driver_commands
):
    stream = Stream(environment=environment)
    with pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic():
            sql.run_and_commit([sql.insert_statement([stream])])
        raise RuntimeError("the outer block rolls back")
    assert _committed_stream_ids() == set()
    assert b"COMMIT" not in driver_commands


@pytest.mark.django_db(transaction=True)
def test_run_and_commit_failing_statement_commits_nothing(environment, driver_commands):
    """A failing statement stops the string before its COMMIT: the block rolls back all of
    its work, runs no on_commit callback, and the connection serves the next transaction."""
    first, second = Stream(environment=environment), Stream(environment=environment)
    sql.run_together([sql.insert_statement([first])])  # autocommitted
    committed = []
    with pytest.raises(IntegrityError), transaction.atomic():
        transaction.on_commit(lambda: committed.append("callback"))
        sql.run_together([sql.insert_statement([second])])
        sql.run_and_commit([sql.insert_statement([first])])  # a duplicate key
    assert committed == []
    assert _committed_stream_ids() == {first.pk}
    with transaction.atomic():
        sql.run_and_commit([sql.insert_statement([second])])
    assert _committed_stream_ids() == {first.pk, second.pk}
