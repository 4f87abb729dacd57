"""Statements of the run pipeline's hot path, their SQL text built once per process.

Building a query through the ORM costs more CPU than PostgreSQL spends running a primary-key
lookup (about 0.5 ms against 0.15 ms for the same statement from a cursor, measured on the
benchmark machine), and every run makes several of them. These helpers build the text once
from the models' metadata, so it follows the models and the database in use, and bind the
values as the ORM would (``get_db_prep_value``: UUIDs as SQLite stores them, for instance).

Each statement is a ``(sql, params)`` pair, so that several can go to PostgreSQL in one round
trip (``run_together``, ``run_atomically``): the run pipeline's time was mostly round trips
(D77).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _database():
    """The thread's connection itself. ``django.db.connection`` is a proxy that looks it up
    again on every attribute access, which the per-field loops below would pay many times per
    statement (7% of a worker's busy samples under py-spy, bench/README.md)."""
    return connections[DEFAULT_DB_ALIAS]


@dataclass(frozen=True)
class Selected:
    """A lookup value that a subquery selects (one column, at most one row): ``sql`` with
    ``%s`` placeholders for ``params``, bound as they are (already database values)."""

    sql: str
    params: tuple = ()


@cache
def _select_sql(
    model: type[Model],
    fields: tuple[str, ...],
    lock: bool,
    extra: tuple[tuple[str, str], ...],
    sources: tuple[str | None, ...],
) -> str:
    table = _quote(model._meta.db_table)
    columns = [f"{table}.{_quote(field.column)}" for field in model._meta.concrete_fields]
    columns += [f"{expression} AS {_quote(name)}" for name, expression in extra]
    where = " AND ".join(
        f"{table}.{_quote(model._meta.get_field(name).column)} = "
        + ("%s" if source is None else f"({source})")
        for name, source in zip(fields, sources, strict=True)
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
    with _database().cursor() as cursor:
        cursor.execute(*row_statement(model, lookups, lock=lock, extra=extra))
        row = cursor.fetchone()
    return None if row is None else row_instance(model, row, extra)


def row_statement(
    model: type[Model], lookups: dict, *, lock: bool = False, extra: dict | None = None
) -> tuple[str, list]:
    """The statement of ``row_where``, to run with others (``run_together``); its row becomes
    the instance with ``row_instance``. A lookup's value may be ``Selected`` by a subquery."""
    params = []
    for name, value in lookups.items():
        if isinstance(value, Selected):
            params.extend(value.params)
        else:
            params.append(db_value(model, name, value))
    sources = tuple(
        value.sql if isinstance(value, Selected) else None for value in lookups.values()
    )
    extra_key = tuple(sorted((extra or {}).items()))
    return _select_sql(model, tuple(lookups), lock, extra_key, sources), params


def row_instance(model: type[Model], row, extra: dict | None = None) -> Model:
    """The model instance of a row of ``row_statement``, its values converted as the ORM's
    compiler converts them (a RawQuerySet cost more to set up than the lookup itself)."""
    db = _database()
    count = len(model._meta.concrete_fields)
    values = _converted(list(row[:count]), _converters(model, db.vendor), db)
    instance = model.from_db(db.alias, None, values)
    for name, value in zip(sorted(extra or ()), row[count:], strict=True):
        setattr(instance, name, value)
    return instance


def value_rows(model: type[Model], fields: tuple[str, ...], query: str, params) -> list[list]:
    """The rows ``query`` selects, whose columns are ``fields`` of ``model`` (names or
    attnames) in that order, converted as ``values_list(*fields)`` converts them."""
    db = _database()
    converters = _field_converters(model, fields, db.vendor)
    with db.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return [_converted(list(row), converters, db) for row in rows]


def _converted(values: list, converters: tuple, db) -> list:
    for index, functions, column in converters:
        value = values[index]
        for function in functions:
            value = function(value, column, db)
        values[index] = value
    return values


@cache
def _converters(model: type[Model], vendor: str) -> tuple:
    """The converters of every concrete field of ``model`` (``row_instance``'s columns)."""
    return _field_converters(
        model, tuple(field.name for field in model._meta.concrete_fields), vendor
    )


@cache
def _field_converters(model: type[Model], fields: tuple[str, ...], vendor: str) -> tuple:
    """``(index, converter functions, column)`` of each of ``fields`` that has converters on
    this database (``vendor`` keys the cache: SQLite converts UUIDs and datetimes, PostgreSQL
    barely anything)."""
    converters = []
    for index, name in enumerate(fields):
        column = model._meta.get_field(name).get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            converters.append((index, tuple(functions), column))
    return tuple(converters)


def scalar(sql: str, params) -> object:
    """The first column of the first row of ``sql`` (or None when it has no row)."""
    with _database().cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def db_value(model: type[Model], field: str, value):
    """``value`` as the database stores ``model.field`` (a UUID on SQLite is 32 hex digits)."""
    return model._meta.get_field(field).get_db_prep_value(value, _database())


def table(model: type[Model]) -> str:
    return _quote(model._meta.db_table)


def column(model: type[Model], field: str) -> str:
    return _quote(model._meta.get_field(field).column)


def column_of(model: type[Model], field: str) -> str:
    """The column qualified by its table, for expressions that refer to an outer query."""
    return f"{table(model)}.{column(model, field)}"


def columns(model: type[Model], fields: Iterable[str]) -> str:
    """``col, col, …`` of ``fields``, for an ``INSERT``'s column list."""
    return ", ".join(column(model, name) for name in fields)


@cache
def _fields(model: type[Model], names: tuple[str, ...]) -> tuple[Field, ...]:
    return tuple(model._meta.get_field(name) for name in names)


def saved_values(instance: Model, fields: tuple[str, ...], *, add: bool = True) -> list:
    """The values the ORM would write for ``fields`` of ``instance``: ``pre_save`` (which
    fills ``auto_now_add`` and the like when ``add``), then ``get_db_prep_save``."""
    db = _database()
    return [
        field.get_db_prep_save(field.pre_save(instance, add), db)
        for field in _fields(type(instance), fields)
    ]


@cache
def unnest_rows(model: type[Model], fields: tuple[str, ...], alias: str) -> str:
    """``unnest(%s::type[], …) AS alias(col, …)`` (PostgreSQL): rows passed as one array per
    column (``column_arrays``), as Django's own bulk insert sends them, so a statement inserts
    any number of rows with the same text and plan."""
    arrays = ", ".join(
        # without the type's arguments: varchar[], not varchar(512)[] (nothing is truncated)
        f"%s::{field.db_type(connection).split('(')[0]}[]"
        for field in _fields(model, fields)
    )
    return f"unnest({arrays}) AS {alias}({columns(model, fields)})"


def column_arrays(instances: list[Model], fields: tuple[str, ...]) -> list[list]:
    """The parameters of ``unnest_rows``: each field's saved values, one list per field."""
    rows = [saved_values(instance, fields) for instance in instances]
    return [list(values) for values in zip(*rows, strict=True)] if rows else [[] for _ in fields]


@cache
def _insert_sql(model: type[Model], fields: tuple[str, ...], rows: int) -> str:
    row = f"({', '.join(['%s'] * len(fields))})"
    return f"INSERT INTO {table(model)} ({columns(model, fields)}) VALUES {', '.join([row] * rows)}"


@cache
def insert_fields(model: type[Model]) -> tuple[str, ...]:
    """Every concrete field but an auto-incremented key (the database numbers those)."""
    auto = model._meta.pk if model._meta.pk.db_returning else None
    return tuple(field.name for field in model._meta.concrete_fields if field is not auto)


def insert_statement(
    instances: list[Model], fields: tuple[str, ...] | None = None
) -> tuple[str, list]:
    """The statement that inserts ``instances`` (all of one model; ``fields``, or every field
    but an auto-incremented key) as the ORM's ``save`` or ``bulk_create`` would (defaults and
    ``auto_now_add`` filled in), to run with others."""
    model = type(instances[0])
    fields = fields or insert_fields(model)
    params = [value for instance in instances for value in saved_values(instance, fields)]
    return _insert_sql(model, fields, len(instances)), params


def mark_saved(instances: list[Model]) -> None:
    """Instances inserted by statements of this module count as saved rows from then on (an
    update through them changes that row; a related object may point at them)."""
    alias = _database().alias
    for instance in instances:
        instance._state.adding, instance._state.db = False, alias


@cache
def _update_sql(model: type[Model], fields: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{column(model, name)} = %s" for name in fields)
    return f"UPDATE {table(model)} SET {assignments} WHERE {_quote(model._meta.pk.column)} = %s"


def update_statement(instance: Model, fields: tuple[str, ...]) -> tuple[str, list]:
    """The statement that saves ``fields`` of ``instance`` (``save(update_fields=…)``)."""
    params = saved_values(instance, fields, add=False)
    params.append(db_value(type(instance), instance._meta.pk.name, instance.pk))
    return _update_sql(type(instance), fields), params


def _in_one_round_trip() -> bool:
    """Whether several statements can go in one query string: on PostgreSQL with client-side
    binding (Django's default there), not with server-side binding, nor on SQLite."""
    db = _database()
    options = db.settings_dict.get("OPTIONS") or {}
    return db.vendor == "postgresql" and not options.get("server_side_binding")


def run_together(statements: list[tuple[str, list]]) -> list:
    """Run ``statements`` in order, in one round trip where the database allows it (each still
    runs as if on its own: on PostgreSQL it sees what committed before it started, the effects
    of the statements before it, and takes its own snapshot). Returns, for each, its rows (a
    list) or, for a statement that returns none, the number of rows it changed."""
    results = []
    with _database().cursor() as cursor:
        if _in_one_round_trip() and len(statements) > 1:
            params = [value for _, values in statements for value in values]
            cursor.execute("; ".join(text for text, _ in statements), params)
            driver_cursor = cursor.cursor
            while True:
                rows = driver_cursor.fetchall() if driver_cursor.description else None
                results.append(driver_cursor.rowcount if rows is None else rows)
                if not driver_cursor.nextset():
                    break
            return results
        for text, values in statements:
            cursor.execute(text, values)
            results.append(cursor.fetchall() if cursor.description else cursor.rowcount)
    return results


def _ends_with_this_block(db) -> bool:
    """Whether the atomic block the caller is in is the outermost one, whose exit commits the
    transaction it began (not a savepoint, nor a block entered with autocommit already off)."""
    return (
        db.in_atomic_block
        and db.commit_on_exit
        and not db.needs_rollback
        and not db.savepoint_ids
        and len(db.atomic_blocks) == 1
    )


def run_and_commit(statements: list[tuple[str, list]]) -> list:
    """``run_together`` as the last work of the transaction the caller's atomic block began:
    where that block is the outermost one and the statements go in one query string, the
    ``COMMIT`` goes in the same string, a round trip less. The block's own commit at its exit
    then finds the transaction ended and sends nothing (psycopg sends no ``COMMIT`` outside a
    transaction), and its ``on_commit`` callbacks run as usual. Should a statement fail, the
    ``COMMIT`` after it is not run and the block rolls back. Nothing may use the connection
    between this and the block's exit. In a savepoint, or where statements go one by one, the
    statements only run and the block commits as usual."""
    db = _database()
    if statements and _in_one_round_trip() and _ends_with_this_block(db):
        return run_together([*statements, ("COMMIT", [])])[:-1]
    return run_together(statements)


def run_atomically(statements: list[tuple[str, list]]) -> list:
    """``run_together`` as one transaction. Outside any transaction, where the statements go in
    one query string, the database runs that string as one transaction of its own, which
    saves the round trips of ``BEGIN`` and ``COMMIT``; otherwise they run in
    ``transaction.atomic`` (a savepoint within the caller's transaction)."""
    db = _database()
    if _in_one_round_trip() and db.get_autocommit() and not db.in_atomic_block:
        return run_together(statements)
    with transaction.atomic():
        return run_together(statements)
