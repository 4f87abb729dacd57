"""The bundle's resources: `::hot::resource` (the ResourceRef type is in hot/resource.hot).

The host lists and reads them (`Hooks.resources()`: the files under the bundle's
`resources/` on the platform, the directories given with `--resources` on the command line).
A missing resource is a `Result.Err`, as in Hot.
"""

from __future__ import annotations

from ..calls import construct
from ..errors import HotRuntimeError
from ..hostcall import host_service
from ..values import Err, type_name
from .registry import LIB, lib

R = "::hot::resource"


def _path(fn, rel):
    if rel.__class__ is not str:
        raise HotRuntimeError(f"{R}/{fn}: expected a Str path, got {type_name(rel)}")
    return rel.lstrip("/")


def _resources():
    return host_service("resources", R)


def _ref(entry):
    return construct(LIB[R]["ResourceRef"], [dict(entry)])


@lib(R, "load")
def load(rel):
    res, rel = _resources(), _path("load", rel)
    if not res.exists(rel):
        return Err(f"{R}/load: resource not found: '{rel}'")
    return res.read(rel)


@lib(R, "load-str")
def load_str(rel):
    data = load(rel)
    if data.__class__ is Err:
        return Err(data.value.replace("/load:", "/load-str:"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Err(f"{R}/load-str: resource '{rel}' is not valid UTF-8")


@lib(R, "path")
def path(rel):
    res, rel = _resources(), _path("path", rel)
    if not res.exists(rel):
        return Err(f"{R}/path: resource not found: '{rel}'")
    return f"hot://res/{rel}"


@lib(R, "exists")
def exists(rel):
    return _resources().exists(_path("exists", rel))


@lib(R, "list")
def list_():
    return [_ref(e) for e in _resources().list()]


@lib(R, "list-matching")
def list_matching(glob):
    if glob.__class__ is not str:
        raise HotRuntimeError(f"{R}/list-matching: expected a Str glob, got {type_name(glob)}")
    return [_ref(e) for e in _resources().list_matching(glob)]
