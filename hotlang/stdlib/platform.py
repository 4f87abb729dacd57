"""Host-backed functions: events, context variables, stream output and run info."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from ..jsonmap import from_json, to_json
from ..state import S
from ..values import hot_str
from .registry import lib


def _hooks():
    return S.hooks


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


@lib("::hot::ctx", "get")
def ctx_get(key, default=None):
    hooks = _hooks()
    v = hooks.ctx_get(hot_str(key)) if hooks is not None else None
    return default if v is None else v


@lib("::hot::ctx", "has")
def ctx_has(key):
    hooks = _hooks()
    return hooks is not None and hooks.ctx_get(hot_str(key)) is not None


@lib("::hot::stream", "data")
def stream_data(value):

    hooks = _hooks()
    if hooks is not None:
        hooks.stream_data(to_json(value))
    return value


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
