"""Math, comparison, booleans, types/results, tests, io, exec and lang functions."""

from __future__ import annotations

import math
import random as _random
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from ..errors import Cancelled, HotHalt, HotRuntimeError
from ..evaluator import HotFn, call_value, consume, err_message, force
from ..state import S
from ..values import (
    Builtin,
    EnumInfo,
    Err,
    Lazy,
    Ok,
    TypedVal,
    TypeInfo,
    Variant,
    VariantCtor,
    hot_cmp,
    hot_eq,
    hot_str,
    repr_value,
    truthy,
    type_name,
    wrap_int,
)
from . import lib

M, CMP, B, T, TEST, IO, EX, LANG = (
    "::hot::math",
    "::hot::cmp",
    "::hot::bool",
    "::hot::type",
    "::hot::test",
    "::hot::io",
    "::hot::exec",
    "::hot::lang",
)


def num(v, fn):
    c = v.__class__
    if c is int or c is Decimal:
        return v
    if c is TypedVal:
        return num(v.value, fn)
    raise HotRuntimeError(f"{fn}: expected a number, got {type_name(v)} {repr_value(v)}")


def to_dec(v):
    return v if v.__class__ is Decimal else Decimal(v)


def _arith(name, op_int, op_dec):
    def fn(*args):
        if not args:
            raise HotRuntimeError(f"{name}: expected at least one argument")
        if len(args) == 1 and args[0].__class__ is list:
            args = args[0]
        acc = num(args[0], name)
        for b in args[1:]:
            b = num(b, name)
            if acc.__class__ is int and b.__class__ is int:
                acc = wrap_int(op_int(acc, b))
            else:
                acc = op_dec(to_dec(acc), to_dec(b))
        return acc

    lib(M, name, core=True)(fn)
    return fn


_add = _arith("add", lambda a, b: a + b, lambda a, b: a + b)
_sub = _arith("sub", lambda a, b: a - b, lambda a, b: a - b)
_mul = _arith("mul", lambda a, b: a * b, lambda a, b: a * b)
_LO, _HI = -(1 << 63), (1 << 63) - 1


# two-Int fast paths: the overwhelmingly common case in loops
@lib(M, "add", core=True)
def add(*args):
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            r = a + b
            return r if _LO <= r <= _HI else wrap_int(r)
    return _add(*args)


@lib(M, "sub", core=True)
def sub(*args):
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            r = a - b
            return r if _LO <= r <= _HI else wrap_int(r)
    return _sub(*args)


@lib(M, "mul", core=True)
def mul(*args):
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            r = a * b
            return r if _LO <= r <= _HI else wrap_int(r)
    return _mul(*args)


@lib(M, "div", core=True)
def div(a, b):
    a, b = num(a, "div"), num(b, "div")
    if b == 0:
        return Err({"message": "division by zero"})
    if a.__class__ is int and b.__class__ is int:
        q, r = divmod(a, b)
        if r == 0:
            return wrap_int(q)
        return Decimal(a) / Decimal(b)
    return to_dec(a) / to_dec(b)


@lib(M, "mod", core=True)
def mod(a, b):
    a, b = num(a, "mod"), num(b, "mod")
    if b == 0:
        return Err({"message": "division by zero"})
    if a.__class__ is int and b.__class__ is int:
        return a - b * int(a / b) if abs(a) < 2**52 else int(math.fmod(a, b))
    return to_dec(a) % to_dec(b)


@lib(M, "pow", core=True)
def pow_(a, b):
    a, b = num(a, "pow"), num(b, "pow")
    if a.__class__ is int and b.__class__ is int and b >= 0:
        if b > 4096 and abs(a) > 1:
            raise HotRuntimeError("pow: exponent too large")
        return wrap_int(a**b)
    if b.__class__ is int or b == b.to_integral_value():
        return to_dec(a) ** int(b)
    return to_dec(a) ** to_dec(b)


@lib(M, "abs", core=True)
def abs_(a):
    return wrap_int(abs(a)) if a.__class__ is int else abs(num(a, "abs"))


def _minmax(name, pick):
    def fn(*args):
        if len(args) == 1 and args[0].__class__ is list:
            args = args[0]
        if not args:
            return None
        best = args[0]
        for v in args[1:]:
            if pick(hot_cmp(v, best)):
                best = v
        return best

    lib(M, name, core=True)(fn)


_minmax("min", lambda c: c < 0)
_minmax("max", lambda c: c > 0)


def _rounder(name, mode):
    def fn(v, places=None):
        v = num(v, name)
        if v.__class__ is int:
            return v
        if places is None:
            return int(v.to_integral_value(rounding=mode))
        q = Decimal(1).scaleb(-places)
        return v.quantize(q, rounding=mode)

    lib(M, name, core=True)(fn)


_rounder("round", ROUND_HALF_UP)
_rounder("floor", ROUND_FLOOR)
_rounder("ceil", ROUND_CEILING)


@lib(M, "sqrt")
def sqrt(v):
    return to_dec(num(v, "sqrt")).sqrt()


@lib(M, "is-zero", core=True)
def is_zero(v):
    return num(v, "is-zero") == 0


@lib(M, "is-pos", core=True)
def is_pos(v):
    return num(v, "is-pos") > 0


@lib(M, "is-neg", core=True)
def is_neg(v):
    return num(v, "is-neg") < 0


@lib(M, "is-even")
def is_even(v):
    return num(v, "is-even") % 2 == 0


@lib(M, "is-odd")
def is_odd(v):
    return num(v, "is-odd") % 2 != 0


@lib(M, "rand", core=True)
def rand(n=None):
    r = Decimal(str(_random.random()))
    return r if n is None else r * to_dec(num(n, "rand"))


@lib(M, "rand-int", core=True)
def rand_int(a=None, b=None):
    if a is None:
        return _random.randint(0, 2**63 - 1)
    if b is None:
        return _random.randrange(a) if a > 0 else 0
    return _random.randrange(a, b) if b > a else a


@lib(M, "inc")
def inc(v):
    return add(v, 1)


@lib(M, "dec")
def dec(v):
    return sub(v, 1)


# -- comparison --------------------------------------------------------------------------------
@lib(CMP, "eq", core=True)
def eq(a, b, *more):
    if a.__class__ is b.__class__ and a.__class__ in (int, str) and not more:
        return a == b
    if not hot_eq(a, b):
        return False
    return all(hot_eq(a, c) for c in more)


@lib(CMP, "ne", core=True)
def ne(a, b):
    return not hot_eq(a, b)


def _ordered(name, ok, fast):
    def fn(*args):
        if len(args) == 2:
            a, b = args
            ca, cb = a.__class__, b.__class__
            if (ca is int or ca is Decimal) and (cb is int or cb is Decimal):
                return fast(a, b)
        for x, y in zip(args, args[1:], strict=False):
            if x is None or y is None:
                raise HotRuntimeError(f"{name}: cannot compare null")
            if not ok(hot_cmp(x, y)):
                return False
        return True

    lib(CMP, name, core=True)(fn)
    return fn


lt = _ordered("lt", lambda c: c < 0, lambda a, b: a < b)
lte = _ordered("lte", lambda c: c <= 0, lambda a, b: a <= b)
gt = _ordered("gt", lambda c: c > 0, lambda a, b: a > b)
gte = _ordered("gte", lambda c: c >= 0, lambda a, b: a >= b)


@lib(CMP, "between", core=True)
def between(v, lo, hi):
    return hot_cmp(lo, v) <= 0 and hot_cmp(v, hi) <= 0


@lib(CMP, "in", core=True)
def in_(v, coll):
    if coll.__class__ is list:
        return any(hot_eq(v, x) for x in coll)
    if coll.__class__ is dict:
        return v in coll
    if coll.__class__ is str:
        return hot_str(v) in coll
    return False


@lib(CMP, "compare")
def compare(a, b):
    return hot_cmp(a, b)


# -- booleans (lazy so they can short-circuit and see Results) ----------------------------------
@lib(B, "if", core=True, mode="lazy")
def if_(pred, then=None, else_=None):
    if truthy(force(pred)):
        return force(then) if then is not None else None
    return force(else_) if else_ is not None else None


@lib(B, "and", core=True, mode="lazy")
def and_(*args):
    v = True
    for a in args:
        v = force(a)
        if not truthy(v):
            return v
    return v.value if v.__class__ is Ok else v


@lib(B, "or", core=True, mode="lazy")
def or_(*args):
    v = None
    for a in args:
        v = force(a)
        if truthy(v):
            return v.value if v.__class__ is Ok else v
    return v if v.__class__ is not Err else None


@lib(B, "not", core=True, mode="raw")
def not_(v):
    return not truthy(v)


@lib(B, "is-truthy", core=True, mode="raw")
def is_truthy(v):
    return truthy(v)


@lib(B, "is-falsy", mode="raw")
def is_falsy(v):
    return not truthy(v)


# -- types and results -------------------------------------------------------------------------
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
    return v.value if v.__class__ is TypedVal else v


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
        out = {}
        for p in v:
            if p.__class__ is list and len(p) == 2:
                out[p[0]] = p[1]
            elif p.__class__ is dict:
                out.update(p)
            else:
                return Err("Map: entries must be [key, value] pairs or single-entry maps")
        return out
    return Err(f"Map: cannot convert {type_name(v)}")


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
    if v.__class__ is bytes:
        return v
    if v.__class__ is str:
        return v.encode()
    if v.__class__ is list:
        return bytes(v)
    raise HotRuntimeError(f"Bytes: cannot convert {type_name(v)}")


BYTE = TypeInfo("Byte", "::hot::type/Byte", "type")


@lib(T, "Byte", core=True)
def Byte(v):
    if v.__class__ is TypedVal and v.type is BYTE:
        return v
    if v.__class__ is not int or not 0 <= v <= 255:
        raise HotRuntimeError(f"Byte: expected an Int from 0 to 255, got {repr_value(v)}")
    return TypedVal(BYTE, v)


# -- tests -------------------------------------------------------------------------------------
def _record_failure(msg):
    if S.test_failures is not None:
        S.test_failures.append(msg)
        return False
    raise HotHalt(msg, {"message": msg}, kind="assert")


@lib(TEST, "assert", core=True, mode="raw")
def assert_(pred, desc=None):
    if pred.__class__ is Err or not truthy(pred):
        where = f": {hot_str(consume(desc))}" if desc is not None else ""
        return _record_failure(f"assertion failed{where}")
    return True


@lib(TEST, "assert-eq", core=True, mode="raw")
def assert_eq(expected, actual, desc=None):
    if hot_eq(expected, actual):
        return True
    d = f"{hot_str(consume(desc))}: " if desc is not None else ""
    return _record_failure(f"{d}expected {repr_value(expected)}, got {repr_value(actual)}")


@lib(TEST, "assert-ne", core=True, mode="raw")
def assert_ne(expected, actual, desc=None):
    if not hot_eq(expected, actual):
        return True
    d = f"{hot_str(consume(desc))}: " if desc is not None else ""
    return _record_failure(f"{d}expected a value other than {repr_value(expected)}")


# -- io ----------------------------------------------------------------------------------------
def _emit(text):
    out = S.stdout
    if len(out) < 10000:
        out.append(text)


@lib(IO, "println", core=True)
def println(*args):
    _emit(" ".join(hot_str(a) for a in args) + "\n")
    return


@lib(IO, "print", core=True)
def print_(*args):
    _emit(" ".join(hot_str(a) for a in args))
    return


@lib(IO, "eprintln", core=True)
def eprintln(*args):
    _emit(" ".join(hot_str(a) for a in args) + "\n")
    return


@lib(IO, "eprint", core=True)
def eprint(*args):
    _emit(" ".join(hot_str(a) for a in args))
    return


@lib(IO, "tap", core=True)
def tap(v, label=None):
    _emit((hot_str(label) + ": " if label is not None else "") + repr_value(v) + "\n")
    return v


# -- exec --------------------------------------------------------------------------------------
@lib(EX, "fail", core=True, mode="raw")
def fail(msg=None, data=None):
    if msg.__class__ is Err:
        data = msg.value if data is None else data
        msg = err_message(msg.value)
    m = hot_str(msg) if msg is not None else "failed"
    raise HotHalt(m, data, kind="fail")


@lib(EX, "cancel", core=True)
def cancel(msg=None, data=None):
    raise Cancelled(hot_str(msg) if msg is not None else "cancelled")


@lib("::hot::internal::exec", "contain", mode="strict")
def contain(thunk, args=None):
    """Run a function; a halt becomes an Err value instead of ending the run."""
    try:
        return call_value(thunk, list(args or []))
    except HotHalt as h:
        return Err(failure_payload(h))
    except HotRuntimeError as e:
        return Err({"msg": e.message, "message": e.message, "err": None})


# -- lang --------------------------------------------------------------------------------------
@lib(LANG, "call", core=True)
def call(f, args=None, on_err=None):
    args = args if args is not None else []
    if args.__class__ is not list:
        args = [args]
    r = call_value(f, args)
    if on_err is None:
        return consume(r)
    return r


@lib(LANG, "apply")
def apply(f, *args):
    if args and args[-1].__class__ is list:
        args = list(args[:-1]) + args[-1]
    return call_value(f, list(args))


@lib(LANG, "identity")
def identity(v):
    return v


@lib("::hot::info", "version", core=True)
def version():
    return "2.6.9-hotlang"


_ = (Lazy, math)


# -- two-argument fast paths for compiled calls (semantics identical to the variadic forms) --
def _fast_arith(op, slow):
    def fast(a, b):
        if a.__class__ is int and b.__class__ is int:
            r = op(a, b)
            return r if _LO <= r <= _HI else wrap_int(r)
        return slow(a, b)

    return fast


def _fast_cmp(op, slow):
    def fast(a, b):
        if a.__class__ is int and b.__class__ is int:
            return op(a, b)
        return slow(a, b)

    return fast


def _install_fast_paths():
    import operator

    from . import LIB

    math_ns, cmp_ns = LIB[M], LIB[CMP]
    math_ns["add"].fast2 = _fast_arith(operator.add, add)
    math_ns["sub"].fast2 = _fast_arith(operator.sub, sub)
    math_ns["mul"].fast2 = _fast_arith(operator.mul, mul)
    for name, op, slow in (
        ("lt", operator.lt, lt),
        ("lte", operator.le, lte),
        ("gt", operator.gt, gt),
        ("gte", operator.ge, gte),
        ("eq", operator.eq, eq),
    ):
        cmp_ns[name].fast2 = _fast_cmp(op, slow)


_install_fast_paths()
