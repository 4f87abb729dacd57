"""Statements of the run pipeline's hot path, their SQL text built once per process.

Building a query through the ORM costs more CPU than PostgreSQL spends running a primary-key
lookup (about 0.5 ms against 0.15 ms for the same statement from a cursor, measured on the
benchmark machine), and every run makes several of them. These helpers build the text once
from the models' metadata, so it follows the models and the database in use, and bind the
values as the ORM would (``get_db_prep_value``: UUIDs as SQLite stores them, for instance).
"""

from functools import cache

from django.db import connection
from django.db.models import Model


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _select_sql(
    model: type[Model], fields: tuple[str, ...], lock: bool, extra: tuple[tuple[str, str], ...]
) -> str:
    table = _quote(model._meta.db_table)
    columns = [f"{table}.{_quote(field.column)}" for field in model._meta.concrete_fields]
    columns += [f"{expression} AS {_quote(name)}" for name, expression in extra]
    where = " AND ".join(
        f"{table}.{_quote(model._meta.get_field(name).column)} = %s" for name in fields
    )
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"
    if lock and connection.features.has_select_for_update:
        # As select_for_update(no_key=True): other transactions may still insert rows that
        # reference this one (runs of a locked environment, entries of a locked event).
        sql += " " + connection.ops.for_update_sql(no_key=True)
    return sql


def row_where(model: type[Model], lookups: dict, *, lock: bool = False, extra: dict | None = None):
    """The ``model`` instance whose fields equal ``lookups`` (every concrete field loaded), or
    None; the lookups must select at most one row. With ``lock`` the row is locked ``FOR NO KEY
    UPDATE`` until the transaction ends (where the database has row locks; SQLite serializes
    writers instead). ``extra`` maps attribute names to SQL expressions read in the same
    statement (fixed texts, e.g. built with ``column_of``)."""
    fields = tuple(lookups)
    params = [db_value(model, name, value) for name, value in lookups.items()]
    extra_items = tuple(sorted((extra or {}).items()))
    with connection.cursor() as cursor:
        cursor.execute(_select_sql(model, fields, lock, extra_items), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return _instance(model, row, [name for name, _ in extra_items])


def _instance(model: type[Model], row, extra_names: list[str]) -> Model:
    """The model instance of a row of ``_select_sql``, its values converted as the ORM's
    compiler converts them (a RawQuerySet cost more to set up than the lookup itself)."""
    count = len(model._meta.concrete_fields)
    values = list(row[:count])
    for index, functions, column in _converters(model, connection.vendor):
        value = values[index]
        for function in functions:
            value = function(value, column, connection)
        values[index] = value
    instance = model.from_db(connection.alias, None, values)
    for name, value in zip(extra_names, row[count:], strict=True):
        setattr(instance, name, value)
    return instance


@cache
def _converters(model: type[Model], vendor: str) -> tuple:
    """``(index, converter functions, column)`` of each concrete field that has converters on
    this database (``vendor`` keys the cache: SQLite converts UUIDs and datetimes, PostgreSQL
    barely anything)."""
    converters = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, tuple(functions), column))
    return tuple(converters)


def row_by_pk(model: type[Model], pk, *, lock: bool = False, extra: dict | None = None):
    """``row_where`` by primary key."""
    return row_where(model, {model._meta.pk.name: pk}, lock=lock, extra=extra)


def scalar(sql: str, params) -> object:
    """The first column of the first row of ``sql`` (or None when it has no row)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def db_value(model: type[Model], field: str, value):
    """``value`` as the database stores ``model.field`` (a UUID on SQLite is 32 hex digits)."""
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def table(model: type[Model]) -> str:
    return _quote(model._meta.db_table)


def column(model: type[Model], field: str) -> str:
    return _quote(model._meta.get_field(field).column)


def column_of(model: type[Model], field: str) -> str:
    """The column qualified by its table, for expressions that refer to an outer query."""
    return f"{table(model)}.{column(model, field)}"
