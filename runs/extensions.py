"""How apps above ``runs`` take part in runs without ``runs`` knowing them: the ``tasks`` app
runs a task as a run of type ``task`` and follows it from here.

- ``on_run_change(listener, run_types)``: ``listener(run, kind)`` is called in the transaction
  of every state change a run of those types records on its stream (``run:start``,
  ``run:stop``, ``run:fail``, ``run:cancel``, ``run:retry``), after the run's row was locked
  and saved: a listener may lock rows of its own (after the run's, as the lock order of
  ``runs/services.py`` allows). Changes of runs no listener follows (``follows``) may be
  written by a single statement that commits on its own.
- ``register_host_service(name, factory)``: ``factory(run, run_db)`` gives Hot code running in
  ``run`` a service (the ``task_service`` hook); ``run_db`` runs a callable on the run's
  database thread.
- ``register_limits(run_type, adjust)``: ``adjust(run, limits)`` gives the limits runs of that
  type execute under (a task's time limit is its own timeout).
"""

from collections.abc import Callable, Iterable

_listeners: list[tuple[Callable, frozenset[str]]] = []
_host_services: dict[str, Callable] = {}
_limits: dict[str, Callable] = {}


def on_run_change(listener: Callable, run_types: Iterable[str]) -> None:
    registration = (listener, frozenset(run_types))
    if registration not in _listeners:
        _listeners.append(registration)


def follows(run) -> bool:
    """Whether a listener follows ``run``'s changes."""
    return any(run.run_type in run_types for _, run_types in _listeners)


def run_changed(run, kind: str) -> None:
    for listener, run_types in _listeners:
        if run.run_type in run_types:
            listener(run, kind)


def register_host_service(name: str, factory: Callable) -> None:
    _host_services[name] = factory


def host_service(name: str, run, run_db):
    factory = _host_services.get(name)
    return None if factory is None else factory(run, run_db)


def register_limits(run_type: str, adjust: Callable) -> None:
    _limits[run_type] = adjust


def limits_for(run, limits):
    adjust = _limits.get(run.run_type)
    return limits if adjust is None else adjust(run, limits)
