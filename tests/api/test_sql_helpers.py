"""``hotapi.sql``: statements built once from the models, bound as the ORM binds them."""

import uuid

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from environments.models import Environment
from events.models import Event, Stream
from hotapi import sql
from projects.models import Project

pytestmark = pytest.mark.django_db


def test_row_by_pk_loads_what_the_orm_loads(environment):
    found = sql.row_by_pk(Environment, environment.pk)
    expected = Environment.objects.get(pk=environment.pk)
    assert model_to_dict(found) == model_to_dict(expected)
    assert found.created_at == expected.created_at and found.pk == expected.pk
    assert sql.row_by_pk(Environment, uuid.uuid4()) is None


def test_row_by_pk_converts_values_as_the_orm_does(environment):
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
    found = sql.row_by_pk(Event, event.pk)
    assert found.event_data == payload and found.stream_id == stream.pk
    assert model_to_dict(found) == model_to_dict(Event.objects.get(pk=event.pk))
    assert found._state.adding is False and found._state.db == "default"
    assert sql.row_by_pk(Environment, environment.pk).active is True
    found.event_type = "a:c"
    found.save(update_fields=["event_type"])
    assert Event.objects.get(pk=event.pk).event_type == "a:c"


def test_row_by_pk_locks_and_reads_extra_expressions(project):
    count = (
        f"(SELECT COUNT(*) FROM {sql.table(Project)} "
        f"WHERE {sql.column(Project, 'environment')} = {sql.column_of(Environment, 'id')})"
    )
    with transaction.atomic():
        found = sql.row_by_pk(Environment, project.environment_id, lock=True, extra={"n": count})
    assert found.pk == project.environment_id and found.n == 1


def test_scalar_and_db_value(environment):
    statement = (
        f"SELECT {sql.column(Environment, 'name')} FROM {sql.table(Environment)} "
        f"WHERE {sql.column(Environment, 'id')} = %s"
    )
    assert sql.scalar(statement, [sql.db_value(Environment, "id", environment.pk)]) == (
        environment.name
    )
    assert sql.scalar(statement, [sql.db_value(Environment, "id", uuid.uuid4())]) is None
