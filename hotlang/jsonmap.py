"""Hot values <-> JSON.

Plain data maps directly (Map -> object, Vec -> array, Int/Dec -> number, Str, Bool, Null).
Typed values use {"$type": "<qualified type>", "$val": <json>}: Bytes, record instances,
enum variants and `Result.Err`. `Ok` is transparent.
"""

from __future__ import annotations

import json
from decimal import Decimal

from .values import (
    BYTE,
    Builtin,
    EnumInfo,
    Err,
    HotIter,
    Lazy,
    Ok,
    TypedVal,
    TypeInfo,
    Variant,
    format_dec,
    hot_str,
)

FAILURE_TYPE = "::hot::run/Failure"


def _dec_json(d: Decimal):
    """Decimals become floats when that is exact, otherwise a typed string keeps precision."""
    if d == d.to_integral_value() and abs(d) < 2**53:
        f = float(d)
        return f
    f = float(d)
    if Decimal(repr(f)) == d:
        return f
    return {"$type": "::hot::type/Dec", "$val": format_dec(d)}


def to_json(v):
    """Hot value -> JSON-able Python value (dict/list/str/int/float/bool/None)."""
    c = v.__class__
    if v is None or c is str or c is bool or c is int:
        return v
    if c is Decimal:
        return _dec_json(v)
    if c is list:
        return [to_json(x) for x in v]
    if c is dict:
        return {(k if k.__class__ is str else _key_text(k)): to_json(x) for k, x in v.items()}
    if c is Ok:
        return to_json(v.value)
    if c is Err:
        return {"$type": "::hot::type/Result.Err", "$val": to_json(v.value)}
    if c is bytes:
        return {"$type": "::hot::type/Bytes", "$val": list(v)}
    if c is TypedVal:
        return {"$type": v.type.qname, "$val": to_json(v.value)}
    if c is Variant:
        return {
            "$type": f"{v.enum.qname}.{v.name}",
            "$val": to_json(v.payload) if v.has_payload else None,
        }
    if c is Lazy:
        return None
    if c is HotIter:
        return {"$type": "::hot::iter/Iter", "$val": None}
    if c in (TypeInfo, EnumInfo):
        return {"$type": "::hot::type/Type", "$val": v.qname}
    if c is Builtin:
        return {"$type": "::hot::type/Fn", "$val": v.qname}
    name = getattr(v, "name", "fn")
    ns = getattr(v, "ns", None)
    if name != "fn" and ns is not None:  # a named function: its qualified name, as Hot writes
        name = f"{ns.name}/{name}"
    return {"$type": "::hot::type/Fn", "$val": name}


def _key_text(k):

    return hot_str(k)


def from_json(v):
    """JSON-ish Python value -> Hot value (floats become exact Decs)."""
    c = v.__class__
    if v is None or c is str or c is bool or c is int:
        return v
    if c is float:
        return Decimal(repr(v))
    if c is Decimal:
        return v
    if c is list or c is tuple:
        return [from_json(x) for x in v]
    if c is dict:
        if len(v) == 2 and "$type" in v and "$val" in v:
            t = v["$type"]
            if t == "::hot::type/Bytes" and isinstance(v["$val"], list):
                return bytes(v["$val"])
            if t == "::hot::type/Byte" and isinstance(v["$val"], int):
                return TypedVal(BYTE, v["$val"])
            if t == "::hot::type/Dec":
                return Decimal(str(v["$val"]))
            if t == "::hot::type/Result.Err":
                return Err(from_json(v["$val"]))
        return {str(k): from_json(x) for k, x in v.items()}
    raise TypeError(f"cannot convert {type(v).__name__} to a Hot value")


def dumps(v, pretty=False) -> str:
    """Serialise a Hot value as JSON text, keeping Dec digits exact."""
    out = []
    _write(v, out, pretty, 0)
    return "".join(out)


def _write(v, out, pretty, level):
    c = v.__class__
    if v is None:
        out.append("null")
    elif c is bool:
        out.append("true" if v else "false")
    elif c is int:
        out.append(str(v))
    elif c is Decimal:
        out.append(format_dec(v))
    elif c is str:
        out.append(json.dumps(v, ensure_ascii=False))
    elif c is list:
        if not v:
            out.append("[]")
            return
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            if pretty:
                out.append("\n" + "  " * (level + 1))
            _write(x, out, pretty, level + 1)
        if pretty:
            out.append("\n" + "  " * level)
        out.append("]")
    elif c is dict:
        if not v:
            out.append("{}")
            return
        out.append("{")
        for i, (k, x) in enumerate(v.items()):
            if i:
                out.append(",")
            if pretty:
                out.append("\n" + "  " * (level + 1))
            out.append(json.dumps(k if k.__class__ is str else _key_text(k), ensure_ascii=False))
            out.append(": " if pretty else ":")
            _write(x, out, pretty, level + 1)
        if pretty:
            out.append("\n" + "  " * level)
        out.append("}")
    elif c is Ok:
        _write(v.value, out, pretty, level)
    else:
        js = to_json(v)
        if js.__class__ is dict and "$val" in js:
            inner = v.value if c in (TypedVal, Err) else (v.payload if c is Variant else js["$val"])
            out.append('{"$type":' + json.dumps(js["$type"]) + ',"$val":')
            _write(inner if c is not bytes else list(v), out, pretty, level)
            out.append("}")
        else:
            out.append(json.dumps(js))


def loads(text: str):
    return from_json(json.loads(text, parse_float=Decimal))
