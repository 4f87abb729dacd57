"""Host-backed functions: events, context variables, stream output and run info."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from ..errors import HotRuntimeError
from ..jsonmap import from_json, to_json
from ..state import current
from ..values import MISSING, hot_str, type_name
from .registry import lib


def _hooks():
    return current().hooks


@lib("::hot::event", "send", core=True)
def send(event_type, data=None):

    event_type = hot_str(event_type)
    hooks = _hooks()
    payload = to_json(data)
    if hooks is not None:
        ret = hooks.send(event_type, payload)
        if isinstance(ret, dict):
            return from_json(ret)
    return {
        "event": {
            "id": str(uuid.uuid4()),
            "type": event_type,
            "time": datetime.now(UTC).isoformat(),
        },
        "stream": {"id": None},
        "env": {"id": None},
    }


def _ctx_key(key):
    if key.__class__ is not str:
        raise HotRuntimeError(f"::hot::ctx: a key must be a Str, got {type_name(key)}")
    return key


@lib("::hot::ctx", "get")
def ctx_get(key, default=None):
    """A value set by this run (`set`/`set-secret`) first, then the host's context variables."""
    key = _ctx_key(hot_str(key) if key.__class__ is not str else key)
    own = current().ex.context
    if key in own:
        v = own[key]
    else:
        hooks = _hooks()
        v = hooks.ctx_get(key) if hooks is not None else None
    return default if v is None else v


@lib("::hot::ctx", "has")
def ctx_has(key):
    return ctx_get(key) is not None


def _ctx_set(args, secret):
    """`set(key, value)` or `set({key: value, ...})`: values for the rest of this run only, as
    in Hot (they are not written back to the project's context variables)."""
    pairs = args[0] if len(args) == 1 else {args[0]: args[1]}
    if pairs.__class__ is not dict:
        raise HotRuntimeError("::hot::ctx/set with one argument takes a Map of key: value")
    state = current()
    hooks = state.hooks
    for key, value in pairs.items():
        state.ex.context[_ctx_key(key)] = value
        if secret:
            for leaf in _leaves(value):
                state.ex.secrets.append(leaf)
                add = getattr(hooks, "add_secret", None) if hooks is not None else None
                if callable(add):  # so the host masks it in logs, variables and results
                    add(leaf)
    return args[0] if len(args) == 1 else args[1]


def _leaves(value):
    """The printable leaves of a value (strings, numbers), which masking looks for."""
    if value.__class__ is dict:
        return [x for v in value.values() for x in _leaves(v)]
    if value.__class__ is list:
        return [x for v in value for x in _leaves(v)]
    if value is None or value.__class__ is bool:
        return []
    return [hot_str(value)]


@lib("::hot::ctx", "set")
def ctx_set(*args):
    return _ctx_set(args, secret=False)


@lib("::hot::ctx", "set-secret")
def ctx_set_secret(*args):
    return _ctx_set(args, secret=True)


@lib("::hot::stream", "data", core=True)
def stream_data(data_type, payload=MISSING):
    """`data(type, payload)` emits typed data to the run's stream (`data(payload)` alone is the
    type "data"); returns null."""
    if payload is MISSING:
        data_type, payload = "data", data_type
    hooks = _hooks()
    if hooks is not None:
        hooks.stream_data(hot_str(data_type), to_json(payload))
    return


@lib("::hot::run", "info")
def run_info():
    hooks = _hooks()
    info = getattr(hooks, "run_info", None) if hooks is not None else None
    if callable(info):
        return from_json(info())
    return {"id": None, "local": True}


@lib("::hot::run", "is-local-dev")
def is_local_dev():
    return True


@lib("::hot::env", "get")
def env_get(name, default=None):
    hooks = _hooks()
    getter = getattr(hooks, "env_get", None)
    v = getter(hot_str(name)) if callable(getter) else env_get_all().get(hot_str(name))
    return default if v is None else v


@lib("::hot::env", "get-all")
def env_get_all():
    """The environment the host gives the code (`Hooks.env_all`); with no host at all (the
    command line) the process environment, as Hot's own CLI does."""
    hooks = _hooks()
    if hooks is None:
        return dict(os.environ)
    all_vars = getattr(hooks, "env_all", None)
    return dict(all_vars() or {}) if callable(all_vars) else {}
