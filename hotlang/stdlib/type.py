"""Types and Results: `::hot::type`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..calls import HotFn, call_value, consume, err_message, force
from ..errors import HotHalt, HotRuntimeError
from ..values import (
    BYTE,
    Builtin,
    EnumInfo,
    Err,
    Ok,
    TypedVal,
    TypeInfo,
    Variant,
    VariantCtor,
    as_bytes,
    hot_str,
    repr_value,
    truthy,
    type_name,
    wrap_int,
)
from .registry import CORE, LIB, lib

T = "::hot::type"


def _pred(name, test, mode="strict"):
    lib(T, name, core=True, mode=mode)(test)


_pred("is-str", lambda v: v.__class__ is str)
_pred("is-int", lambda v: v.__class__ is int)
_pred("is-dec", lambda v: v.__class__ is Decimal)
_pred("is-number", lambda v: v.__class__ in (int, Decimal))
_pred("is-bool", lambda v: v.__class__ is bool)
_pred("is-null", lambda v: v is None)
_pred("is-some", lambda v: v is not None)
_pred("is-vec", lambda v: v.__class__ is list)
_pred("is-map", lambda v: v.__class__ is dict)
_pred("is-bytes", lambda v: v.__class__ is bytes)
_pred("is-byte", lambda v: v.__class__ is TypedVal and v.type is BYTE)
_pred("is-fn", lambda v: v.__class__ in (HotFn, Builtin, VariantCtor))
_pred("is-any", lambda v: True)
_pred("is-namespace", lambda v: False)
_pred("is-var", lambda v: False)
_pred("is-ok", lambda v: v.__class__ is not Err, mode="raw")
_pred("is-err", lambda v: v.__class__ is Err, mode="raw")
_pred("is-result", lambda v: v.__class__ in (Ok, Err), mode="raw")


@lib(T, "is-type", core=True, mode="raw")
def is_type(v, t=None):
    if t is None:
        return v.__class__ in (TypeInfo, EnumInfo)
    c = t.__class__
    if c is Builtin:
        return type_name(v) == t.name or (t.name == "Any")
    if c is TypeInfo:
        if v.__class__ is TypedVal:
            return v.type is t
        return v.__class__ is Variant and v.payload.__class__ is TypedVal and v.payload.type is t
    if c is EnumInfo:
        if t.qname == "::hot::type/Result":
            return v.__class__ in (Ok, Err)
        return v.__class__ is Variant and v.enum is t
    if c is Variant:
        return v.__class__ is Variant and v.enum is t.enum and v.name == t.name
    if c is VariantCtor:
        if t.enum.qname == "::hot::type/Result":
            return v.__class__ is (Ok if t.name == "Ok" else Err)
        return v.__class__ is Variant and v.enum is t.enum and v.name == t.name
    return False


@lib(T, "type-of")
def type_of(v):
    return type_name(v)


@lib(T, "ok", core=True, mode="raw")
def ok(v=None):
    return v if v.__class__ in (Ok, Err) else Ok(v)


@lib(T, "err", core=True, mode="raw")
def err(v=None):
    if v.__class__ is Err:
        return v
    if v.__class__ is Ok:
        v = v.value
    return Err(v)


@lib(T, "ok-value", core=True, mode="raw")
def ok_value(v):
    if v.__class__ is Ok:
        return v.value
    if v.__class__ is Err:
        return None
    return v


@lib(T, "err-value", core=True, mode="raw")
def err_value(v):
    return v.value if v.__class__ is Err else None


@lib(T, "err-message", core=True, mode="raw")
def err_message_(v):
    if v.__class__ is Err:
        v = v.value
    if v is None:
        return None
    return err_message(v)


@lib(T, "if-ok", core=True, mode="raw")
def if_ok(v, handler=None):
    if v.__class__ is Err:
        return v
    payload = v.value if v.__class__ is Ok else v
    if handler is None:
        return payload
    if _is_callable(handler):
        return call_value(handler, [payload])
    return handler


@lib(T, "if-err", core=True, mode="lazy")
def if_err(v, handler=None):
    v = force_contained(v)
    handler = force(handler) if handler is not None else None
    if v.__class__ is not Err:
        return v
    if _is_callable(handler):
        return call_value(handler, [v.value])
    return handler


def failure_payload(h):
    """The Err payload a contained halt turns into: {msg, err} like ::hot::run/Failure."""
    if h.kind == "err" and h.err is not None:
        return h.err
    return {"msg": h.message, "message": h.message, "err": h.err}


def force_contained(v):
    """Force a lazy argument; a halt inside it becomes an Err value."""
    try:
        return force(v)
    except HotHalt as h:
        return Err(failure_payload(h))


def _is_callable(v):
    return v.__class__ in (HotFn, Builtin, VariantCtor)


@lib(T, "untype", core=True)
def untype(v):
    """Plain data all the way down: typed values inside Vecs and Maps are untyped too."""
    c = v.__class__
    if c is TypedVal:
        return untype(v.value)
    if c is list:
        return [untype(x) for x in v]
    if c is dict:
        return {k: untype(x) for k, x in v.items()}
    return v


@lib(T, "Str", core=True)
def Str(*args):
    return "".join(hot_str(a) for a in args)


def _coerced(v, target):
    fn = v.type.coercions.get(target)
    if fn is None:
        return Err(f"cannot convert {v.type.name} to {target}")
    return consume(call_value(fn, [v]))


@lib(T, "Int", core=True)
def Int(v):
    c = v.__class__
    if c is int:
        return v
    if c is bool:
        return 1 if v else 0
    if c is Decimal:
        return wrap_int(int(v))
    if c is str:
        try:
            return wrap_int(int(v.strip()))
        except ValueError:
            try:
                return wrap_int(int(Decimal(v.strip())))
            except Exception:
                return Err(f'cannot convert "{v}" to Int')
    if v is None:
        return Err("cannot convert null to Int")
    if c is TypedVal:
        return _coerced(v, "Int")
    return Err(f"cannot convert {type_name(v)} to Int")


@lib(T, "Dec", core=True)
def Dec(v, places=None):
    c = v.__class__
    if c is Decimal:
        r = v
    elif c is int:
        r = Decimal(v)
    elif c is str:
        try:
            r = Decimal(v.strip())
        except Exception:
            return Err(f'cannot convert "{v}" to Dec')
        if not r.is_finite():
            return Err(f'cannot convert "{v}" to Dec')
    elif c is bool:
        r = Decimal(1 if v else 0)
    elif c is TypedVal:
        return _coerced(v, "Dec")
    else:
        return Err(f"cannot convert {type_name(v)} to Dec")
    if places is not None:
        r = r.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return r


@lib(T, "Bool", core=True, mode="raw")
def Bool(v):
    if v.__class__ is str:
        low = v.strip().lower()
        if low in ("true", "yes", "y", "1", "on"):
            return True
        if low in ("false", "no", "n", "0", "off", ""):
            return False
        return Err(f'cannot convert "{v}" to Bool')
    return truthy(v)


@lib(T, "Vec", core=True)
def Vec(*args):
    if len(args) == 1:
        v = args[0]
        if v.__class__ is list:
            return v
        if v.__class__ is dict:
            return [[k, x] for k, x in v.items()]
        if v.__class__ is str:
            return list(v)
        if v.__class__ is bytes:
            return list(v)
        if v is None:
            return []
    return list(args)


@lib(T, "Map", core=True)
def Map(*args):
    if not args:
        return {}
    if len(args) > 1:
        if len(args) % 2:
            return Err("Map: expected key/value pairs")
        return {args[i]: args[i + 1] for i in range(0, len(args), 2)}
    v = args[0]
    if v is None:
        return {}
    if v.__class__ is dict:
        return v
    if v.__class__ is TypedVal:
        return Map(v.value)
    if v.__class__ is list:
        return _map_from_entries(v)
    return Err(f"Map: cannot convert {type_name(v)}")


def _map_from_entries(entries):
    out = {}
    for p in entries:
        if p.__class__ is list and len(p) == 2:
            out[p[0]] = p[1]
        elif p.__class__ is dict:
            out.update(p)
        else:
            return Err("Map: entries must be [key, value] pairs or single-entry maps")
    return out


@lib(T, "Null", core=True)
def Null(v=None):
    return None


@lib(T, "Any", core=True)
def Any_(v=None):
    return v


@lib(T, "Fn", core=True)
def Fn(v=None):
    return v


@lib(T, "Bytes", core=True)
def Bytes(v):
    return as_bytes(v, "Bytes")


@lib(T, "Byte", core=True)
def Byte(v):
    if v.__class__ is TypedVal and v.type is BYTE:
        return v
    if v.__class__ is not int or not 0 <= v <= 255:
        raise HotRuntimeError(f"Byte: expected an Int from 0 to 255, got {repr_value(v)}")
    return TypedVal(BYTE, v)


# `All(...)`: the tag Hot's `All<...>` annotations name, usable as a record type of its own
ALL = TypeInfo("All", f"{T}/All", "type")
LIB[T]["All"] = ALL
CORE["All"] = ALL
