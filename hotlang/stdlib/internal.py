"""Function-signature reflection for agent tooling: `::hot::internal::mcp` (tool schemas and
calling a function with a Map of named arguments) and `::hot::internal::skill` (skill
metadata). The registries are built from the program's sources on first use (`toolspec.py`)."""

from __future__ import annotations

from ..calls import HotFn, call_value
from ..errors import HotHalt, HotRuntimeError
from ..state import current
from ..toolspec import skill_specs, tool_specs
from ..values import Builtin, Err
from .registry import PRELUDE, lib

MCP = "::hot::internal::mcp"
SKILL = "::hot::internal::skill"


def _registry(kind, build):
    program = current().program
    cache = program.reflection if program is not None else {}
    if kind not in cache:
        programs = PRELUDE + ([program] if program is not None else [])
        cache[kind] = build(programs)
    return cache[kind]


def _fn_name(f):
    """The qualified name a function value (or a name given as a Str) is registered under."""
    if f.__class__ is str:
        return f
    if f.__class__ is HotFn and f.name != "fn" and f.ns is not None:
        return f"{f.ns.name}/{f.name}"
    if f.__class__ is Builtin:
        return f.qname
    if isinstance(f, dict) and f.get("$type") == "::hot::type/Fn":
        return _fn_name(f.get("$val"))
    return None


def _lookup(ns, fn_name, kind, build, f, missing):
    """The registered spec of function f, or an Err saying why there is none."""
    name = _fn_name(f)
    if name is None:
        return Err(
            f"{ns}/{fn_name}: argument must be a function reference or a fully qualified "
            "function name string"
        )
    spec = _registry(kind, build).get(name)
    if spec is None:
        return Err(f"{ns}/{fn_name}: no {missing.format(name=name)}")
    return dict(spec)


@lib(MCP, "schema-from-fn")
def schema_from_fn(f):
    return _lookup(
        MCP,
        "schema-from-fn",
        "tools",
        tool_specs,
        f,
        "schema registered for '{name}' (function may have no typed parameters or may not "
        "have been compiled)",
    )


@lib(MCP, "all-tool-schemas")
def all_tool_schemas():
    return [dict(spec) for spec in _registry("tools", tool_specs).values()]


@lib(MCP, "invoke-with-input")
def invoke_with_input(f, data):
    """Call f with the fields of data as its arguments, in parameter order (missing ones null;
    extra ones ignored). A function with no registered schema gets the whole Map."""
    if data is None:
        data = {}
    if data.__class__ is not dict:
        return Err(f"{MCP}/invoke-with-input: input must be a Map")
    if f.__class__ is HotFn and f.name == "fn":  # a lambda: its own parameter names
        args = [data.get(n) for n in f.overloads[0].names]
    else:
        name = _fn_name(f)
        if name is None:
            return Err(
                f"{MCP}/invoke-with-input: first argument must be a function reference, "
                "function name, typed Fn, or lambda"
            )
        spec = _registry("tools", tool_specs).get(name)
        names = list(spec["input-schema"].get("properties", {})) if spec else None
        args = [data.get(n) for n in names] if names is not None else [data]
        if f.__class__ is str:
            f, _ = current().program.resolve_qualified(*name.rsplit("/", 1), None)
    try:
        return call_value(f, args)
    except (HotHalt, HotRuntimeError) as e:
        return Err(f"{MCP}/invoke-with-input: {e}")


@lib(SKILL, "meta-from-fn")
def meta_from_fn(f):
    return _lookup(
        SKILL,
        "meta-from-fn",
        "skills",
        skill_specs,
        f,
        "skill registered for '{name}' (function may have no `meta {{skill: ...}}` annotation)",
    )


@lib(SKILL, "all-skill-metas")
def all_skill_metas():
    return [dict(spec) for spec in _registry("skills", skill_specs).values()]
