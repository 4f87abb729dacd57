"""Runtime value representation.

Hot values map onto Python values where possible, for speed:
Int -> int, Dec -> decimal.Decimal, Str -> str, Bool -> bool, Null -> None,
Vec -> list (never mutated once built), Map -> dict, Bytes -> bytes.
Results, lazy thunks, functions and typed values use the small classes below.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

from .errors import HotRuntimeError

DEC_CTX = decimal.Context(prec=76, rounding=decimal.ROUND_HALF_EVEN, Emin=-999999, Emax=999999)
decimal.setcontext(DEC_CTX)

INT_MIN = -(1 << 63)
INT_MAX = (1 << 63) - 1


def wrap_int(v: int) -> int:
    """Two's-complement 64-bit wrap-around."""
    if INT_MIN <= v <= INT_MAX:
        return v
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= (1 << 63) else v


class Ok:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Ok({self.value!r})"


class Err:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Err({self.value!r})"


class Lazy:
    """A deferred argument: an unevaluated closure plus the environment to evaluate it in."""

    __slots__ = ("code", "env")

    def __init__(self, code, env):
        self.code = code
        self.env = env


class TailCall:
    __slots__ = ("fn", "args")

    def __init__(self, fn, args):
        self.fn = fn
        self.args = args


class Builtin:
    """A natively implemented library function.

    mode: "strict" (args evaluated and Results unwrapped), "raw" (evaluated, Results kept),
    "lazy" (args arrive as Lazy thunks; use force()).
    """

    __slots__ = ("name", "fn", "mode", "qname", "fast2", "__weakref__")

    def __init__(self, name, fn, mode="strict", qname=None):
        self.name = name
        self.fn = fn
        self.mode = mode
        self.qname = qname or name
        self.fast2 = None  # optional two-argument fast path used by compiled calls

    def __repr__(self):
        return f"<builtin {self.qname}>"


class TypeInfo:
    """A record type, a type alias or a built-in type name; callable as a constructor."""

    __slots__ = (
        "name",
        "qname",
        "kind",
        "fields",
        "ctor",
        "atoms",
        "coercions",
        "resolver",
        "items",
        "arrows",
    )

    def __init__(self, name, qname, kind="type", fields=None, ctor=None, atoms=None):
        self.name = name
        self.qname = qname
        self.kind = kind
        self.fields = fields or []
        self.ctor = ctor  # HotFn for `type fn (...)` constructors
        self.atoms = atoms
        self.coercions = {}  # target type name -> fn, from `Source -> Target fn` arrows
        self.resolver = None  # resolves field type names where the type is defined
        self.items = {}  # field name -> item type name, for `Vec<Item>` fields
        # (target type or enum, converter) from `Self -> Target` arrows: applied to arguments
        # at call boundaries; the converter is a Hot fn, or a variant name for an enum target
        self.arrows = []

    def __repr__(self):
        return f"<type {self.qname}>"


class EnumInfo:
    __slots__ = ("name", "qname", "variants", "open", "payloads", "resolver")

    def __init__(self, name, qname, variants, is_open=False):
        self.name = name
        self.qname = qname
        self.variants = variants  # dict name -> has_payload
        self.open = is_open
        self.payloads = {}  # variant name -> payload type name (for inference from a Map)
        self.resolver = None

    def __repr__(self):
        return f"<enum {self.qname}>"


class Variant:
    __slots__ = ("enum", "name", "payload", "has_payload")

    def __init__(self, enum, name, payload=None, has_payload=False):
        self.enum = enum
        self.name = name
        self.payload = payload
        self.has_payload = has_payload

    def __eq__(self, other):
        return (
            isinstance(other, Variant)
            and other.enum is self.enum
            and other.name == self.name
            and other.payload == self.payload
        )

    def __hash__(self):
        return hash((self.name,))

    def __repr__(self):
        return f"{self.enum.name}.{self.name}"


class VariantCtor:
    """`Shape.Circle` for a payload-carrying variant: call it to build the variant."""

    __slots__ = ("enum", "name")

    def __init__(self, enum, name):
        self.enum = enum
        self.name = name


class TypedVal:
    """An instance of a record type (or a value tagged with a user type)."""

    __slots__ = ("type", "value")

    def __init__(self, typ, value):
        self.type = typ
        self.value = value

    def __eq__(self, other):
        return isinstance(other, TypedVal) and other.type is self.type and other.value == self.value

    def __hash__(self):
        return hash(self.type.qname)

    def __repr__(self):
        return f"{self.type.name}({self.value!r})"


class NsValue:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class HotIter:
    """A lazy `::hot::iter/Iter`: a stateful Python iterator. `next` advances it; turning it
    into a collection drains what is left (up to the collection size limit)."""

    __slots__ = ("it",)

    def __init__(self, it):
        self.it = it

    def __repr__(self):
        return "<iter>"


class Unresolved:
    """What a reference to an unsupported library name (or a missing namespace) evaluates to.

    Binding or passing it is harmless; calling it, reading a field of it or using it in a
    computation raises `message`, at the place of that use.
    """

    __slots__ = ("qname", "message")

    def __init__(self, qname, message):
        self.qname = qname
        self.message = message

    def __repr__(self):
        return f"<unresolved {self.qname}>"


MISSING = object()

RESULT_ENUM = EnumInfo("Result", "::hot::type/Result", {"Ok": True, "Err": True})
ONERR_ENUM = EnumInfo(
    "OnErr", "::hot::type/OnErr", {"Preserve": False, "Halt": False, "Skip": False}
)


def type_name(v) -> str:
    """The Hot type name of a value."""
    c = v.__class__
    if c is str:
        return "Str"
    if c is bool:
        return "Bool"
    if c is int:
        return "Int"
    if c is Decimal:
        return "Dec"
    if v is None:
        return "Null"
    if c is list:
        return "Vec"
    if c is dict:
        return "Map"
    if c is bytes:
        return "Bytes"
    if c is Ok or c is Err:
        return "Result"
    if c is TypedVal:
        return v.type.name
    if c is Variant:
        return v.enum.name
    if c in (TypeInfo, EnumInfo):
        return "Type"
    if c is HotIter:
        return "Iter"
    return "Fn"


def format_dec(d: Decimal) -> str:
    if not d.is_finite():
        return str(d)
    s = format(d, "f")
    if "." not in s:
        s += ".0"
    return s


def hot_str(v) -> str:
    """Str() of a value: strings unchanged, null empty, everything else in literal form."""
    c = v.__class__
    if c is str:
        return v
    if v is None:
        return ""
    if c is bytes:
        return v.decode("utf-8", errors="replace")
    if c is TypedVal:
        fn = v.type.coercions.get("Str")
        if fn is not None and STR_COERCE is not None:
            return STR_COERCE(fn, v)
    return repr_value(v, "")


# set by the evaluator: calls a `Type -> Str` conversion function
STR_COERCE = None


def _quote(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + out.replace("\r", "\\r").replace("\t", "\\t") + '"'


def repr_value(v, null="null") -> str:
    """Literal form; `null` is how null renders (Str() renders it as an empty string)."""
    c = v.__class__
    if v is None:
        return null
    if c is bool:
        return "true" if v else "false"
    if c is int:
        return str(v)
    if c is Decimal:
        return format_dec(v)
    if c is str:
        return _quote(v)
    if c is list:
        return "[" + ", ".join(repr_value(x, null) for x in v) + "]"
    if c is dict:
        return "{" + ", ".join(f"{_key(k)}: {repr_value(x, null)}" for k, x in v.items()) + "}"
    if c is bytes:
        return "Bytes(" + v.hex() + ")"
    if c is Ok:
        return f"Result.Ok({repr_value(v.value)})"
    if c is Err:
        return f"Result.Err({repr_value(v.value)})"
    if c is Variant:
        if v.has_payload:
            return f"{v.enum.name}.{v.name}({repr_value(v.payload)})"
        return f"{v.enum.name}.{v.name}"
    if c is TypedVal:
        return f"{v.type.name}({repr_value(v.value)})"
    if c is TypeInfo or c is EnumInfo:
        return v.name
    if c is Builtin:
        return f"<fn {v.qname}>"
    name = getattr(v, "name", None)
    return f"<fn {name}>" if name else "<fn>"


def _key(k):
    if k.__class__ is str:
        if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", k):
            return k
        return _quote(k)
    return repr_value(k)


def truthy(v) -> bool:
    if v is None or v is False:
        return False
    c = v.__class__
    if c is Err:
        return False
    if c is Ok:
        return truthy(v.value)
    return True


def hot_eq(a, b) -> bool:
    ca, cb = a.__class__, b.__class__
    if ca is Ok:
        return hot_eq(a.value, b.value) if cb is Ok else hot_eq(a.value, b)
    if cb is Ok:
        return hot_eq(a, b.value)
    if ca is not cb:
        if ca in (int, Decimal) and cb in (int, Decimal):
            return a == b
        return _eq_numeric_forms(a, b)
    if ca is list:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=False):
            if not hot_eq(x, y):
                return False
        return True
    if ca is dict:
        if len(a) != len(b):
            return False
        for k, x in a.items():
            y = b.get(k, MISSING)
            if y is MISSING or not hot_eq(x, y):
                return False
        return True
    if ca is Err:
        return hot_eq(a.value, b.value)
    if ca is Variant:
        return a.enum is b.enum and a.name == b.name and hot_eq(a.payload, b.payload)
    if ca is TypedVal:
        return a.type.qname == b.type.qname and hot_eq(a.value, b.value)
    if ca is Decimal:
        return a == b
    return a == b if ca in (str, int, bool, bytes, type(None)) else a is b


def _rank(v):
    c = v.__class__
    if v is None:
        return 0
    if c is bool:
        return 1
    if c is int or c is Decimal:
        return 2
    if c is str:
        return 3
    if c is list:
        return 4
    if c is dict:
        return 5
    return 6


def hot_cmp(a, b) -> int:
    """Total order used by sort/compare: null < bool < numbers < strings < vecs < maps."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 4:
        for x, y in zip(a, b, strict=False):
            c = hot_cmp(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra in (5, 6):
        sa, sb = repr_value(a), repr_value(b)
        return (sa > sb) - (sa < sb)
    if ra == 0:
        return 0
    return (a > b) - (a < b)


def _eq_numeric_forms(a, b):
    """A Byte equals its Int, and Bytes equal the Vec of their Ints, as in Hot."""
    for x, y in ((a, b), (b, a)):
        if x.__class__ is TypedVal and x.type is BYTE and y.__class__ is int:
            return x.value == y
        if x.__class__ is bytes and y.__class__ is list:
            return len(x) == len(y) and all(hot_eq(i, j) for i, j in zip(x, y, strict=True))
    return False


# the `::hot::type/Byte` type: an Int from 0 to 255 kept distinct from Int
BYTE = TypeInfo("Byte", "::hot::type/Byte", "type")


def as_bytes(v, fn):
    """The bytes of a Bytes value, a Str (UTF-8) or a Vec of Ints, for library functions."""
    if v.__class__ is bytes:
        return v
    if v.__class__ is str:
        return v.encode()
    if v.__class__ is list:
        return bytes(v)
    raise HotRuntimeError(f"{fn}: expected Str or Bytes, got {type_name(v)}")
