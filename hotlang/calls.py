"""The call protocol and value operations shared by the compiler and the library.

`HotFn` is a compiled Hot function (its overloads); `call_value` calls any callable Hot value
with evaluated arguments; `consume` is the ordinary use of a value (Ok unwraps, Err halts, lazy
arguments are forced); `construct`, `get_field` and `get_index` are the value operations that
both compiled code and library functions need. Nothing here knows about the AST.
"""

from __future__ import annotations

import decimal

from . import values as _values_module
from .errors import HotHalt, HotRuntimeError, LimitExceeded, Unsupported
from .state import CURRENT, check_budget
from .values import (
    MISSING,
    RESULT_ENUM,
    Builtin,
    EnumInfo,
    Err,
    HotIter,
    Lazy,
    NsValue,
    Ok,
    TailCall,
    TypedVal,
    TypeInfo,
    Unresolved,
    Variant,
    VariantCtor,
    hot_eq,
    hot_str,
    type_name,
)

# the classes an argument must be "consumed" from before ordinary use (Ok unwraps, Err halts,
# Lazy is forced); checking `v.__class__ in SPECIAL` first keeps plain values on a fast path
SPECIAL = {Ok, Err, Lazy}
PY_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    ZeroDivisionError,
    decimal.InvalidOperation,
    OverflowError,
    UnicodeError,
)


class HotFn:
    __slots__ = ("name", "overloads", "env", "lazy_any", "single", "ns", "meta", "__weakref__")

    def __init__(self, name, overloads, env, ns):
        self.name = name
        self.overloads = overloads
        self.env = env
        self.ns = ns
        self.meta = None
        self.lazy_any = any(o.lazy_any for o in overloads)
        one = overloads[0] if len(overloads) == 1 else None
        # the fast paths bind the single overload without dispatch: not when an argument may
        # need an arrow coercion first
        self.single = one if one is not None and not one.variadic and not one.coercible else None

    def __repr__(self):
        return f"<fn {self.name}>"

    def select(self, args):
        n = len(args)
        single = self.single
        if single is not None and single.nparams == n:
            return single
        fallback = None
        for ov in self.overloads:
            if ov.nparams == n or (ov.variadic and n >= ov.nparams - 1):
                if not ov.typed or ov.accepts(args):
                    return ov
                if fallback is None:
                    fallback = ov
        for ov in self.overloads:
            if ov.coercible and ov.nparams == n and ov.coerce(args):
                return ov
        if fallback is not None:
            return fallback
        arities = ", ".join(str(o.nparams) + ("+" if o.variadic else "") for o in self.overloads)
        raise HotRuntimeError(
            f"{self.name}: no overload accepts {n} argument(s) (arities: {arities})"
        )

    def lazy_mask(self, n):
        # which of n arguments are `lazy` parameters: callers pass those unevaluated (a Lazy
        # thunk), so only functions that declare lazy parameters pay for building thunks
        for ov in self.overloads:
            if ov.nparams == n or (ov.variadic and n >= ov.nparams - 1):
                return ov.lazy
        return None


class CompiledOverload:
    __slots__ = (
        "names",
        "types",
        "lazy",
        "lazy_any",
        "variadic",
        "nparams",
        "body",
        "typed",
        "resolver",
        "coercible",
    )

    def __init__(self, names, types, lazy, variadic, body, resolver):
        self.names = names
        self.types = types
        self.lazy = tuple(lazy)
        self.lazy_any = any(lazy)
        self.variadic = variadic
        self.nparams = len(names)
        self.body = body
        self.typed = any(t is not None for t in types)
        self.resolver = resolver
        self.coercible = any(
            a.__class__ is str and a not in _SIMPLE for t in types if t is not None for a in t
        )

    def accepts(self, args):
        for i, t in enumerate(self.types):
            if t is None:
                continue
            if self.variadic and i == self.nparams - 1:
                for a in args[i:]:
                    if not value_is(a, t, self.resolver):
                        return False
                return True
            if i < len(args) and not value_is(args[i], t, self.resolver):
                return False
        return True

    def coerce(self, args):
        """Convert, in place, each argument that does not fit its parameter type but has a
        registered `Source -> Target` arrow to it. False (args untouched) if any cannot."""
        converted = list(args)
        for i, atoms in enumerate(self.types):
            if atoms is None or value_is(converted[i], atoms, self.resolver):
                continue
            arg = converted[i]
            conv = _arrow_to(arg, atoms, self.resolver)
            if conv is None:
                return False
            converted[i] = conv(arg)
        args[:] = converted
        return True

    def bind(self, fn, args):
        env = dict(fn.env) if fn.env is not None else {}
        if self.variadic:
            k = self.nparams - 1
            for name, a in zip(self.names[:k], args, strict=False):
                env[name] = a
            env[self.names[k]] = list(args[k:])
        else:
            for name, a in zip(self.names, args, strict=False):
                env[name] = a
        return env


# -- type checks -------------------------------------------------------------------------------
_SIMPLE = {
    "Str": lambda v: v.__class__ is str,
    "Int": lambda v: v.__class__ is int,
    "Dec": lambda v: v.__class__ is decimal.Decimal,
    "Number": lambda v: v.__class__ in (int, decimal.Decimal),
    "Bool": lambda v: v.__class__ is bool,
    "Null": lambda v: v is None,
    "Vec": lambda v: v.__class__ is list,
    "Map": lambda v: v.__class__ is dict,
    "Bytes": lambda v: v.__class__ is bytes,
    "Any": lambda v: True,
    "Fn": lambda v: callable_value(v),
    "Result": lambda v: True,
    "Iter": lambda v: v.__class__ is HotIter,
}


def _arrow_to(value, atoms, resolver):
    """A converter for value along an arrow to one of the annotation's types, or None."""
    if value.__class__ is not TypedVal:
        return None
    targets = [resolver(a) for a in atoms if a.__class__ is str and a not in _SIMPLE]
    for target, conv in value.type.arrows:
        if not any(t is target for t in targets):
            continue
        if conv.__class__ is str:
            return lambda v, enum=target, name=conv: Variant(enum, name, v, True)
        return lambda v, fn=conv: consume(call_value(fn, [v]))
    return None


def callable_value(v):
    return v.__class__ in (HotFn, Builtin, TypeInfo, VariantCtor)


def value_is(v, atoms, resolver):
    """True when v matches any atom of a type annotation (atoms from TypeRef)."""
    c = v.__class__
    if c is Ok:
        v = v.value
    for atom in atoms:
        if atom.__class__ is tuple:
            if hot_eq(v, atom[1]):
                return True
            continue
        check = _SIMPLE.get(atom)
        if check is not None:
            if check(v):
                return True
            continue
        if type_atom_matches(v, atom, resolver):
            return True
    return False


def type_atom_matches(v, atom, resolver):
    if "." in atom:
        tname, variant = atom.rsplit(".", 1)
        t = resolver(tname)
        if t is RESULT_ENUM:
            if variant == "Ok":
                return v.__class__ is not Err
            return v.__class__ is Err
        return v.__class__ is Variant and v.enum is t and v.name == variant
    t = resolver(atom)
    if t is None:
        return False
    if t.__class__ is EnumInfo:
        if t is RESULT_ENUM:
            return True
        return v.__class__ is Variant and v.enum is t
    if t.__class__ is TypeInfo:
        if v.__class__ is TypedVal:
            return v.type is t
        if t.atoms:
            return value_is(v, t.atoms, resolver)
        return False
    return False


# -- core call machinery -----------------------------------------------------------------------
def force(v):
    while v.__class__ is Lazy:
        v = v.code(v.env)
    return v


def err_message(payload):
    if payload.__class__ is dict:
        for k in ("message", "msg"):
            if k in payload:
                return hot_str(payload[k])
    if payload.__class__ is TypedVal and isinstance(payload.value, dict):
        return err_message(payload.value)
    return hot_str(payload)


def consume(v, loc=None):
    """Ordinary consumption: unwrap Ok, halt on Err, force lazies."""
    while True:
        c = v.__class__
        if c is Ok:
            v = v.value
        elif c is Err:
            raise HotHalt(f"Result error: {err_message(v.value)}", v.value, kind="err")
        elif c is Lazy:
            v = force(v)
        else:
            return v


def call_hot(f, args):
    s = CURRENT.state
    s.depth += 1
    if s.depth > s.max_depth:
        s.depth -= 1
        raise LimitExceeded(f"recursion depth limit exceeded ({s.max_depth} calls)")
    try:
        # the tail-call loop: a call in tail position returns a TailCall instead of recursing,
        # and this loop runs it, so tail recursion runs in constant Python stack
        while True:
            s.steps += 1
            if s.steps > s.next_check:
                check_budget()
            # one overload of the right arity (the common case) binds without dispatch
            ov = f.single
            if ov is None or ov.nparams != len(args):
                ov = f.select(args)
                env = ov.bind(f, args)
            elif f.env is None:
                env = (
                    dict(zip(ov.names, args, strict=False))
                    if ov.nparams != 1
                    else {ov.names[0]: args[0]}
                )
            else:
                env = dict(f.env)
                env.update(zip(ov.names, args, strict=False))
            r = ov.body(env)
            if r.__class__ is TailCall:
                f = r.fn
                args = r.args
                if f.__class__ is not HotFn:
                    return call_value(f, args)
                continue
            return r
    finally:
        s.depth -= 1


def call_value(f, args):
    """Call any callable Hot value with already evaluated arguments (used by the library).

    Arguments are passed as they are: library callbacks may receive Err elements.
    """
    c = f.__class__
    if c is HotFn:
        # arguments are already values here: lazy parameters get a thunk that returns them
        if f.lazy_any:
            mask = f.lazy_mask(len(args))
            if mask:
                args = [
                    Lazy(_const(a), None) if lz else a for a, lz in zip(args, mask, strict=False)
                ] + list(args[len(mask) :])
        return call_hot(f, args)
    if c is Builtin:
        CURRENT.state.steps += 1
        if f.mode == "strict":
            args = [consume(a) if a.__class__ in SPECIAL else a for a in args]
        elif f.mode == "lazy":
            args = [Lazy(_const(a), None) for a in args]
        return f.fn(*args)
    return call_other(f, [consume(a) if a.__class__ in SPECIAL else a for a in args])


def _const(v):
    return lambda env: v


def call_other(f, args):
    c = f.__class__
    if c is TypeInfo:
        return construct(f, args)
    if c is VariantCtor:
        if f.enum is RESULT_ENUM:
            return (
                Ok(args[0] if args else None) if f.name == "Ok" else Err(args[0] if args else None)
            )
        return Variant(f.enum, f.name, args[0] if len(args) == 1 else args, True)
    if c is Variant and not args:
        return f
    if c is dict and len(args) == 1:
        return f.get(args[0])
    if c is Unresolved:
        raise Unsupported(f.message)
    raise HotRuntimeError(f"cannot call a value of type {type_name(f)}")


def construct(t, args):
    ctor = t.ctor
    if ctor.__class__ is Builtin:  # a library type: its constructor does all the checks
        return ctor.fn(*[consume(a) if a.__class__ in SPECIAL else a for a in args])
    if ctor is not None:
        n = len(args)
        for ov in ctor.overloads:
            if (ov.nparams == n or (ov.variadic and n >= ov.nparams - 1)) and (
                not ov.typed or ov.accepts(args)
            ):
                v = consume(call_hot(ctor, args))
                return v if v.__class__ is TypedVal and v.type is t else TypedVal(t, v)
        if t.kind == "ctor":
            raise HotRuntimeError(f"{t.name}: no constructor accepts {n} argument(s)")
    if not args and t.kind == "type":
        return TypedVal(t, {})
    if len(args) != 1:
        raise HotRuntimeError(f"{t.name}: constructor takes exactly one argument")
    v = args[0]
    if v.__class__ is TypedVal and v.type is t:
        return v
    if t.kind == "type" and v.__class__ is dict:
        return construct_record(t, v)
    if t.kind == "type" and t.fields and t.ctor is None:
        return Err({"message": f"{t.name}: expected a Map of fields, got {type_name(v)}"})
    if t.kind == "alias" and t.atoms is not None:
        if not value_is(v, t.atoms, lambda n: None):
            raise HotRuntimeError(f"{t.name}: value {hot_str(v)} is not allowed")
        return v
    return TypedVal(t, v)


def construct_record(t, v):
    """A record from a Map: required fields checked, and fields typed with a record, an enum
    or `Vec<Record>` built from their plain Maps (an enum variant inferred by its fields)."""
    missing = [
        f
        for f, ftype in t.fields
        if f != "..." and f not in v and (ftype is None or "Null" not in ftype)
    ]
    if missing:
        names = ", ".join(f"'{f}'" for f in missing)
        return Err({"message": f"{t.name}: missing field(s) {names}"})
    out = v
    for fname, ftype in t.fields:
        if fname not in v or t.resolver is None or not ftype:
            continue
        built = _build_field(t, fname, ftype, v[fname])
        if built.__class__ is Err:
            return built
        if built is not v[fname]:
            if out is v:
                out = dict(v)
            out[fname] = built
    return TypedVal(t, out)


def _build_field(t, fname, ftype, value):
    item = t.items.get(fname)
    if item is not None and value.__class__ is list:
        return _build_items(t.resolver(item), value)
    atoms = [a for a in ftype if a != "Null"]
    if len(atoms) != 1 or atoms[0].__class__ is not str:
        return value
    return _build_value(t.resolver(atoms[0]), value)


def _build_value(target, value):
    if value.__class__ is not dict:
        return value
    if target.__class__ is TypeInfo and target.kind == "type" and target.ctor is None:
        return construct_record(target, value)
    if target.__class__ is EnumInfo and target.payloads:
        return _infer_variant(target, value)
    return value


def _build_items(target, items):
    out = []
    for i, x in enumerate(items):
        built = _build_value(target, x)
        if built.__class__ is Err:
            return Err({"message": f"item {i}: {err_message(built.value)}"})
        out.append(built)
    return out


def _infer_variant(enum, value):
    """The one variant whose record payload fits the Map's keys; a tie leaves the Map."""
    fits = []
    for name, tname in enum.payloads.items():
        rt = enum.resolver(tname) if enum.resolver is not None and tname else None
        if rt.__class__ is TypeInfo and rt.kind == "type" and _fits(rt, value):
            fits.append((name, rt))
    if len(fits) != 1:
        return value
    name, rt = fits[0]
    built = construct_record(rt, value)
    return built if built.__class__ is Err else Variant(enum, name, built, True)


def _fits(record_type, value):
    names = {f for f, _ in record_type.fields}
    required = {
        f for f, ft in record_type.fields if f != "..." and (ft is None or "Null" not in ft)
    }
    return required <= value.keys() and ("..." in names or value.keys() <= names)


# -- value access ------------------------------------------------------------------------------
def get_field(obj, name, loc=None):
    c = obj.__class__
    if c is dict:
        return obj.get(name)
    if c in SPECIAL:
        return get_field(consume(obj, loc), name, loc)
    if obj is None:
        return None
    if c is TypedVal:
        return get_field(obj.value, name, loc)
    if c is EnumInfo:
        has = obj.variants.get(name, MISSING)
        if has is MISSING:
            raise HotRuntimeError(f"{obj.name} has no variant '{name}'", loc)
        if has:
            return VariantCtor(obj, name)
        return Variant(obj, name)
    if c is Variant:
        return get_field(obj.payload, name, loc) if obj.has_payload else None
    if c is NsValue:
        raise HotRuntimeError(f"use ::ns/var syntax to reference {obj.name}/{name}", loc)
    if c is Unresolved:
        raise Unsupported(obj.message, loc)
    raise HotRuntimeError(f"cannot read field '{name}' of a {type_name(obj)}", loc)


def get_index(obj, idx, loc=None):
    c = obj.__class__
    if idx.__class__ in SPECIAL:
        idx = consume(idx, loc)
    if c is list:
        if idx.__class__ is int:
            if idx < 0:
                idx += len(obj)
            return obj[idx] if 0 <= idx < len(obj) else None
        raise HotRuntimeError(f"Vec index must be an Int, got {type_name(idx)}", loc)
    if c is dict:
        return obj.get(idx)
    if c in SPECIAL:
        return get_index(consume(obj, loc), idx, loc)
    if obj is None:
        return None
    if c is bytes and idx.__class__ is int:
        return obj[idx] if 0 <= idx < len(obj) else None
    if c is str and idx.__class__ is int:
        return obj[idx] if -len(obj) <= idx < len(obj) else None
    if c is TypedVal:
        return get_index(obj.value, idx, loc)
    if c is Unresolved:
        raise Unsupported(obj.message, loc)
    raise HotRuntimeError(f"cannot index a {type_name(obj)}", loc)


def _str_coerce(fn, v):
    r = consume(call_value(fn, [v]))
    return r if r.__class__ is str else hot_str(r)


# values.hot_str needs user-defined `X -> Str` coercions, which are Hot calls
_values_module.STR_COERCE = _str_coerce


def caller(f, nargs):
    """A Python callable for invoking f repeatedly with nargs plain arguments (library loops).

    For the common one-overload Hot function it binds parameters directly and skips
    dispatch; results are returned with Results preserved, like call_value.
    """
    ov = f.single if f.__class__ is HotFn else None
    if ov is None or ov.nparams != nargs or f.lazy_any or nargs not in (1, 2):
        return lambda *args: call_value(f, list(args))
    body = ov.body
    base = f.env

    def finish(r):
        if r.__class__ is TailCall:
            return call_hot(r.fn, r.args) if r.fn.__class__ is HotFn else call_value(r.fn, r.args)
        return r

    if nargs == 1:
        (n0,) = ov.names

        def call1(x):
            s = CURRENT.state  # the caller may be used from pmap's worker threads
            s.steps += 1
            if s.steps > s.next_check:
                check_budget()
            if base is None:
                env = {n0: x}
            else:
                env = dict(base)
                env[n0] = x
            r = body(env)
            return finish(r) if r.__class__ is TailCall else r

        return call1
    n0, n1 = ov.names

    def call2(x, y):
        s = CURRENT.state
        s.steps += 1
        if s.steps > s.next_check:
            check_budget()
        if base is None:
            env = {n0: x, n1: y}
        else:
            env = dict(base)
            env[n0] = x
            env[n1] = y
        r = body(env)
        return finish(r) if r.__class__ is TailCall else r

    return call2
