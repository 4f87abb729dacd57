"""Data-only reader for ``manifest.hot`` and its interpretation.

``manifest.hot`` is a Hot *data literal* (what Hot's ``Val::pretty_print`` emits).
Like Hot's server, we never evaluate it: the parser below accepts only literals.

Grammar accepted (a superset of what the CLI writes, never of what it means)::

    value   := map | vector | string | number | true | false | null
             | Byte(int) | Bytes([int, ...])
    map     := '{' (key ':' value ','?)* '}'
    key     := string | identifier | '::'-path  (e.g. ::app::main/on-signup)
    vector  := '[' (value ','?)* ']'
    string  := '"' ... '"'  with only \\n \\r \\t \\" \\\\ escapes
    number  := '-'? digits ('.' digits)? ([eE] [+-]? digits)?

Commas between items are optional and a trailing comma is allowed (Hot source
separates items by whitespace too); ``//`` and ``/* */`` comments are skipped, as
in Hot source. Templates, identifiers as values, calls and ``\\u`` escapes are
refused. Input size, nesting depth and value count are bounded; errors carry the
``line:col`` where parsing stopped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import BundleError
from .hashing import ListedFile

MANIFEST_NAME = "manifest.hot"
BUNDLE_KEY_PREFIX = "hot.bundle."

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


class HotByte(int):
    """A ``Byte(n)`` literal: an int that remembers it was written as a byte."""


def _is_ident_start(ch: str) -> bool:
    return ch.isalpha() or ch in "_$"


def _is_ident_continue(ch: str) -> bool:
    return ch.isalnum() or ch in "_$-"


class _Parser:
    def __init__(self, text: str, max_depth: int, max_values: int) -> None:
        self.text = text
        self.pos = 0
        self.max_depth = max_depth
        self.max_values = max_values
        self.values = 0

    # -- errors and positions ----------------------------------------------------------

    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"{line}:{col}"

    def fail(self, message: str, pos: int | None = None, code: str = "manifest_invalid"):
        return BundleError(
            code, f"{MANIFEST_NAME}:{self.where(pos)}: {message}", entry=MANIFEST_NAME
        )

    def too_deep(self) -> BundleError:
        return self.fail(f"nesting deeper than {self.max_depth} levels", code="manifest_too_deep")

    # -- lexing --------------------------------------------------------------------------

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch.isspace():
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unterminated /* comment")
                self.pos = end + 2
            else:
                return

    def expect(self, ch: str) -> None:
        self.skip_ws()
        if self.peek() != ch:
            found = repr(self.peek()) if self.peek() else "end of input"
            raise self.fail(f"expected {ch!r}, found {found}")
        self.pos += 1

    # -- grammar -------------------------------------------------------------------------

    def parse(self) -> Any:
        value = self.value(0)
        self.skip_ws()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the manifest data")
        return value

    def value(self, depth: int) -> Any:
        """Parse one value; ``depth`` is the number of containers around it."""
        self.values += 1
        if self.values > self.max_values:
            raise self.fail(f"more than {self.max_values} values", code="manifest_too_large")
        self.skip_ws()
        ch = self.peek()
        if ch in ("{", "[") and depth >= self.max_depth:
            raise self.too_deep()
        if ch == "{":
            return self.map(depth + 1)
        if ch == "[":
            return self.vector(depth + 1)
        if ch == '"':
            return self.string()
        if ch == "`":
            raise self.fail("template strings are not allowed in a manifest")
        if ch == "-" or ch.isdigit():
            return self.number()
        if ch and _is_ident_start(ch):
            start = self.pos
            word = self.identifier()
            if word == "true":
                return True
            if word == "false":
                return False
            if word == "null":
                return None
            if word == "Byte":
                return self.byte_ctor()
            if word == "Bytes":
                return self.bytes_ctor(depth)
            raise self.fail(
                f"{word!r} is not data: variables, calls and expressions are not allowed",
                start,
            )
        if not ch:
            raise self.fail("unexpected end of input")
        raise self.fail(f"expected a data literal, found {ch!r}")

    def items(self, close: str, item) -> None:  # type: ignore[no-untyped-def]
        """Parse ``item`` repeatedly until ``close``; commas optional, trailing ok."""
        self.pos += 1
        while True:
            self.skip_ws()
            if self.peek() == close:
                self.pos += 1
                return
            if not self.peek():
                raise self.fail(f"unexpected end of input, expected {close!r}")
            item()
            self.skip_ws()
            if self.peek() == ",":
                self.pos += 1

    def map(self, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}

        def entry() -> None:
            key = self.key()
            self.expect(":")
            # Hot's reader keeps the last value of a repeated key; do the same so
            # we see exactly what the Hot server would see.
            result[key] = self.value(depth)

        self.items("}", entry)
        return result

    def vector(self, depth: int) -> list[Any]:
        result: list[Any] = []
        self.items("]", lambda: result.append(self.value(depth)))
        return result

    def key(self) -> str:
        ch = self.peek()
        if ch == '"':
            return self.string()
        if _is_ident_start(ch):
            return self.identifier()
        if self.text.startswith("::", self.pos):
            return self.ns_path()
        raise self.fail("map keys must be strings or identifiers")

    def identifier(self) -> str:
        start = self.pos
        self.pos += 1
        while self.pos < len(self.text) and _is_ident_continue(self.text[self.pos]):
            self.pos += 1
        return self.text[start : self.pos]

    def ns_path(self) -> str:
        # ::a::b or ::a::b/var, the way Hot names namespaces and functions.
        start = self.pos
        while self.text.startswith("::", self.pos):
            self.pos += 2
            if not _is_ident_start(self.peek()):
                raise self.fail("expected a namespace segment after '::'")
            self.identifier()
        if self.peek() == "/":
            self.pos += 1
            if not _is_ident_start(self.peek()):
                raise self.fail("expected a name after '/'")
            self.identifier()
        return self.text[start : self.pos]

    def string(self) -> str:
        start = self.pos
        self.pos += 1
        text = self.text
        out: list[str] = []
        while True:
            end = self.pos
            while end < len(text) and text[end] not in '"\\':
                end += 1
            out.append(text[self.pos : end])
            if end >= len(text):
                raise self.fail("unterminated string", start)
            self.pos = end + 1
            if text[end] == '"':
                return "".join(out)
            esc = self.peek()
            if esc not in _ESCAPES:
                shown = f"\\{esc}" if esc else "\\ at end of input"
                raise self.fail(f"unsupported string escape {shown!r}", end)
            out.append(_ESCAPES[esc])
            self.pos += 1

    def number(self) -> int | Decimal:
        start = self.pos
        text = self.text
        if self.peek() == "-":
            self.pos += 1
        if not self.digits():
            raise self.fail("invalid number", start)
        is_decimal = False
        if self.peek() == ".":
            self.pos += 1
            is_decimal = True
            if not self.digits():
                raise self.fail("invalid decimal: digits must follow '.'", start)
        if self.peek() in ("e", "E"):
            self.pos += 1
            is_decimal = True
            if self.peek() in ("+", "-"):
                self.pos += 1
            if not self.digits():
                raise self.fail("invalid decimal exponent", start)
        nxt = self.peek()
        if nxt and (_is_ident_start(nxt) or nxt in ".(["):
            raise self.fail("invalid number syntax", start)
        literal = text[start : self.pos]
        if is_decimal:
            try:
                return Decimal(literal)
            except InvalidOperation:
                raise self.fail(f"invalid decimal {literal!r}", start) from None
        number = int(literal)
        if not _INT_MIN <= number <= _INT_MAX:
            raise self.fail(f"integer {literal} does not fit in 64 bits", start)
        return number

    def digits(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "0123456789":
            self.pos += 1
        return self.pos > start

    def byte_literal(self) -> int:
        self.skip_ws()
        start = self.pos
        value = self.number() if (self.peek() == "-" or self.peek().isdigit()) else None
        if not isinstance(value, int) or not 0 <= value <= 255:
            raise self.fail("byte values must be integers between 0 and 255", start)
        return value

    def byte_ctor(self) -> HotByte:
        self.expect("(")
        value = self.byte_literal()
        self.expect(")")
        return HotByte(value)

    def bytes_ctor(self, depth: int) -> bytes:
        if depth >= self.max_depth:
            raise self.too_deep()
        self.expect("(")
        self.skip_ws()
        if self.peek() != "[":
            raise self.fail("expected '[' after 'Bytes('")
        out = bytearray()

        def item() -> None:
            self.values += 1
            if self.values > self.max_values:
                raise self.fail(f"more than {self.max_values} values", code="manifest_too_large")
            out.append(self.byte_literal())

        self.items("]", item)
        self.expect(")")
        return bytes(out)


def parse_hot_data(
    data: bytes | str,
    *,
    max_bytes: int = 8 * 1024 * 1024,
    max_depth: int = 64,
    max_values: int = 250_000,
) -> Any:
    """Parse a Hot data literal into dict / list / str / int / Decimal / bool / None.

    ``Byte(n)`` becomes :class:`HotByte`, ``Bytes([...])`` becomes ``bytes``.
    Raises BundleError (``manifest_invalid``, ``manifest_too_large`` or
    ``manifest_too_deep``) with the line and column of the problem.
    """
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > max_bytes:
        raise BundleError(
            "manifest_too_large",
            f"{MANIFEST_NAME} is {size} bytes; the limit is {max_bytes} bytes",
            entry=MANIFEST_NAME,
        )
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(
                "manifest_invalid",
                f"{MANIFEST_NAME} is not valid UTF-8 (byte {exc.start})",
                entry=MANIFEST_NAME,
            ) from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
    return _Parser(text, max_depth, max_values).parse()


# -- interpretation ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventHandler:
    """A function registered with ``meta {on-event: ...}``."""

    event_type: str
    fn: str  # "::ns::path/var"
    ns: str
    var: str
    once: bool = False
    file: str | None = None
    line: int | None = None
    column: int | None = None
    position: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # hot-std's own handlers (hot:call, hot:schedule, ...) are listed in every
    # CLI manifest; the platform implements them natively.
    system: bool = False


@dataclass(frozen=True)
class Schedule:
    """A function registered with ``meta {schedule: ...}``; ``cron`` as written."""

    cron: str
    fn: str
    ns: str
    var: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    position: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    system: bool = False
    # Filled in by inspect_bundle: the 7-field form cron.next_fire iterates.
    normalized: str | None = None


@dataclass(frozen=True)
class Webhook:
    """A function exposed as an HTTP endpoint with ``meta {webhook: {service, path, ...}}``.

    ``path`` is normalized: no leading or trailing ``/`` (``""`` for the service root)."""

    service: str
    path: str
    method: str  # GET, POST, PUT, PATCH or DELETE
    name: str
    auth: str  # "none" (the default) or "required"
    fn: str
    ns: str
    var: str
    description: str | None = None
    file: str | None = None
    line: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class McpTool:
    """A function exposed as an MCP tool with ``meta {mcp: {service, ...}}``. The schemas are
    the CLI's (or the meta's overrides); None when the manifest has none: they are then
    derived from the function's signature when the build is prepared."""

    service: str
    name: str
    auth: str  # "required" (the default) or "none"
    fn: str
    ns: str
    var: str
    description: str | None = None
    title: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    icons: list[Any] | None = None
    file: str | None = None
    line: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ContextRequirement:
    key: str
    declared_by: str | None = None
    source_file: str | None = None


@dataclass(frozen=True)
class Manifest:
    """The parts of ``manifest.hot`` the control plane uses, plus the raw data."""

    project_name: str
    bundle_id: str | None
    bundle_hash: str | None
    engine_version: str | None
    hot_std_version: str | None
    created_at: str | None
    files: tuple[ListedFile, ...]
    resources: tuple[ListedFile, ...]
    event_handlers: tuple[EventHandler, ...]
    schedules: tuple[Schedule, ...]
    context_requirements: tuple[ContextRequirement, ...]
    send_targets: dict[str, list[str]]
    raw: dict[str, Any]
    webhooks: tuple[Webhook, ...] = ()
    mcp_tools: tuple[McpTool, ...] = ()
    # What the manifest declares that this service cannot serve (agents, workflows, box
    # requirements, sections it does not know): one readable warning each, never dropped.
    unserved: tuple[str, ...] = ()

    @property
    def context_keys(self) -> list[str]:
        """Names of the context variables the bundle needs, de-duplicated, sorted."""
        return sorted({req.key for req in self.context_requirements})


def to_jsonable(value: Any) -> Any:
    """Convert parsed Hot data into JSON-compatible Python values.

    Decimals become int when integral, else float; bytes become a list of ints.
    """
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return list(value)
    if isinstance(value, HotByte):
        return int(value)
    return value


def _invalid(message: str) -> BundleError:
    return BundleError("manifest_invalid", f"{MANIFEST_NAME}: {message}", entry=MANIFEST_NAME)


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _invalid(f"{where}.{key} must be a string")


def _opt_int(obj: dict[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _invalid(f"{where}.{key} must be an integer")


def _section(info: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = info.get(key, default)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise _invalid(f"{key} must be a {'map' if kind is dict else 'vector'}")
    return value


def split_fn(fn: str) -> tuple[str, str]:
    """``::a::b/var`` → (``::a::b``, ``var``), splitting on the last ``/`` as Hot does."""
    ns, sep, var = fn.rpartition("/")
    if not sep or not ns or not var:
        raise _invalid(f"function name {fn!r} is not of the form ::namespace/var")
    return ns, var


def _is_system(fn: str, file: str | None) -> bool:
    return (file or "").startswith("hot-std:") or fn.startswith("::hot::")


def _listed_files(info: dict[str, Any], key: str) -> tuple[ListedFile, ...]:
    out = []
    for i, item in enumerate(_section(info, key, list, [])):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise _invalid(f"{where} must be a map")
        path = _opt_str(item, "path", where)
        digest = _opt_str(item, "hash", where)
        if not path or not digest:
            raise _invalid(f"{where} needs a path and a hash")
        out.append(ListedFile(path=path, hash=digest, size=_opt_int(item, "size", where)))
    return tuple(out)


def _artifacts(info: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any], str]]:
    """(group key, artifact map, where) for every entry of a ``{key: [artifact]}`` map."""
    out = []
    for group, items in _section(info, key, dict, {}).items():
        if not isinstance(items, list):
            raise _invalid(f"{key}[{group!r}] must be a vector")
        for i, item in enumerate(items):
            where = f"{key}[{group!r}][{i}]"
            if not isinstance(item, dict):
                raise _invalid(f"{where} must be a map")
            out.append((group, item, where))
    return out


def _common(item: dict[str, Any], where: str) -> dict[str, Any]:
    fn = _opt_str(item, "fn", where)
    if not fn:
        raise _invalid(f"{where} has no fn")
    ns, var = split_fn(fn)
    meta = item.get("meta")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise _invalid(f"{where}.meta must be a map")
    file = _opt_str(item, "file", where)
    return {
        "fn": fn,
        "ns": ns,
        "var": var,
        "file": file,
        "line": _opt_int(item, "line", where),
        "column": _opt_int(item, "column", where),
        "position": _opt_int(item, "position", where),
        "meta": to_jsonable(meta),
        "system": _is_system(fn, file),
    }


def _merge_sends(meta: dict[str, Any], sends: list[str] | None) -> dict[str, Any]:
    # Hot's server adds statically detected send() targets to the handler meta.
    if not sends:
        return meta
    existing = meta.get("sends")
    merged = list(existing) if isinstance(existing, list) else []
    for target in sends:
        if target not in merged:
            merged.append(target)
    return {**meta, "sends": merged}


# Sections of the bundle map this service reads (or knows to be bookkeeping).
_KNOWN_SECTIONS = frozenset(
    {
        "bundle_id",
        "bundle_hash",
        "engine_version",
        "hot_std_version",
        "files",
        "resources",
        "event_handlers",
        "scheduled_functions",
        "mcp_tools",
        "webhooks",
        "send_targets",
        "ctx_requirements",
        "created_at",
        "build_docs",
    }
)
# Sections Hot serves and this service does not (yet): declared ones are deploy warnings.
_UNSERVED_SECTIONS = {
    "agents": "agents",
    "workflows": "named workflows",
    "box_requirements": "box (sandbox) requirements",
}
WEBHOOK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
AUTH_MODES = ("none", "required")
_SERVICE_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\Z")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+\Z")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, dict | list | str) and not value)


def unserved_sections(info: dict[str, Any]) -> tuple[str, ...]:
    """A warning for every declared section of the bundle this service cannot serve."""
    warnings = []
    for key, label in _UNSERVED_SECTIONS.items():
        if not _is_empty(info.get(key)):
            warnings.append(
                f"{MANIFEST_NAME} declares {label} ({key}); this service does not serve them: "
                "they are ignored"
            )
    for key in sorted(set(info) - _KNOWN_SECTIONS - set(_UNSERVED_SECTIONS)):
        if not _is_empty(info.get(key)):
            warnings.append(
                f"{MANIFEST_NAME} has a section this service does not know ({key}); it is ignored"
            )
    return tuple(warnings)


def _kind_meta(common: dict[str, Any], kind: str) -> dict[str, Any]:
    inner = common["meta"].get(kind)
    return inner if isinstance(inner, dict) else {}


def _text(item: dict[str, Any], inner: dict[str, Any], key: str, where: str) -> str | None:
    """``key`` from the artifact, else from its ``meta {kind: {...}}`` map."""
    value = _opt_str(item, key, where)
    if value is None:
        value = inner.get(key) if isinstance(inner.get(key), str) else None
    return value


def _auth_mode(item: dict[str, Any], inner: dict[str, Any], where: str, default: str) -> str:
    mode = _opt_str(item, "auth_mode", where) or _text(item, inner, "auth", where) or default
    if mode not in AUTH_MODES:
        raise _invalid(f'{where}: auth must be "none" or "required", not {mode!r}')
    return mode


def normalize_webhook_path(path: str, where: str = "webhook") -> str:
    """``/events/`` → ``events``; ``/`` → ``""``. Segments are URL-safe, never empty."""
    segments = [segment for segment in path.strip().strip("/").split("/")]
    if segments == [""]:
        return ""
    for segment in segments:
        if not _PATH_SEGMENT.match(segment):
            raise _invalid(
                f"{where}: path {path!r} must be URL-safe segments (letters, digits, - _ . ~)"
            )
    return "/".join(segments)


def auto_tool_name(ns: str, var: str) -> str:
    """``::myapp::weather`` + ``get-forecast`` → ``myapp_weather_get_forecast`` (as Hot)."""
    prefix = ns.removeprefix("::").replace("::", "_").replace("-", "_")
    name = var.replace("-", "_")
    return f"{prefix}_{name}" if prefix else name


def _service(group: str, item: dict, inner: dict, where: str) -> str:
    service = _text(item, inner, "service", where) or group
    if not _SERVICE_NAME.match(service):
        raise _invalid(
            f"{where}: service {service!r} must be URL-safe (letters, digits, - _ .) and "
            "not start or end with - or ."
        )
    return service


def _webhooks(info: dict[str, Any]) -> tuple[Webhook, ...]:
    out: dict[tuple[str, str, str], Webhook] = {}
    for group, item, where in _artifacts(info, "webhooks"):
        common = _common(item, where)
        inner = _kind_meta(common, "webhook")
        path = _text(item, inner, "path", where)
        if path is None:
            raise _invalid(f"{where} has no path")
        method = (_text(item, inner, "method", where) or "POST").upper()
        if method not in WEBHOOK_METHODS:
            raise _invalid(f"{where}: method {method!r} is not one of {', '.join(WEBHOOK_METHODS)}")
        webhook = Webhook(
            service=_service(group, item, inner, where),
            path=normalize_webhook_path(path, where),
            method=method,
            name=_text(item, inner, "name", where) or auto_tool_name(common["ns"], common["var"]),
            auth=_auth_mode(item, inner, where, "none"),
            description=_text(item, inner, "description", where),
            fn=common["fn"],
            ns=common["ns"],
            var=common["var"],
            file=common["file"],
            line=common["line"],
            meta=common["meta"],
        )
        key = (webhook.service, webhook.path, webhook.method)
        if key in out and out[key].fn != webhook.fn:
            raise _invalid(
                f"{where}: {method} {webhook.service}/{webhook.path} is declared by both "
                f"{out[key].fn} and {webhook.fn}"
            )
        out[key] = webhook
    return tuple(out.values())


def _opt_map(item: dict, inner: dict, key: str, meta_key: str, where: str) -> Any:
    value = item.get(key)
    if value is None:
        value = inner.get(meta_key)
    if value is not None and not isinstance(value, dict | list):
        raise _invalid(f"{where}.{key} must be a map")
    return to_jsonable(value)


def _mcp_tools(info: dict[str, Any]) -> tuple[McpTool, ...]:
    out: dict[tuple[str, str], McpTool] = {}
    for group, item, where in _artifacts(info, "mcp_tools"):
        common = _common(item, where)
        inner = _kind_meta(common, "mcp")
        tool = McpTool(
            service=_service(group, item, inner, where),
            name=_text(item, inner, "name", where) or auto_tool_name(common["ns"], common["var"]),
            auth=_auth_mode(item, inner, where, "required"),
            description=_text(item, inner, "description", where),
            title=_text(item, inner, "title", where),
            input_schema=_opt_map(item, inner, "input_schema", "input-schema", where),
            output_schema=_opt_map(item, inner, "output_schema", "output-schema", where),
            annotations=_opt_map(item, inner, "annotations", "annotations", where),
            icons=_opt_map(item, inner, "icons", "icons", where),
            fn=common["fn"],
            ns=common["ns"],
            var=common["var"],
            file=common["file"],
            line=common["line"],
            meta=common["meta"],
        )
        key = (tool.service, tool.name)
        if key in out and out[key].fn != tool.fn:
            raise _invalid(
                f"{where}: tool {tool.name!r} of service {tool.service!r} is declared by both "
                f"{out[key].fn} and {tool.fn}"
            )
        out[key] = tool
    return tuple(out.values())


def interpret_endpoints(info: dict[str, Any]) -> tuple[tuple[Webhook, ...], tuple[McpTool, ...]]:
    """The ``webhooks`` and ``mcp_tools`` sections of a bundle map (BundleError if malformed)."""
    return _webhooks(info), _mcp_tools(info)


def interpret_manifest(data: Any) -> Manifest:
    """Extract handlers, schedules, files, requirements and versions from parsed data."""
    if not isinstance(data, dict):
        raise _invalid("the top level must be a map")
    bundle_key = next((key for key in data if key.startswith(BUNDLE_KEY_PREFIX)), None)
    if bundle_key is None:
        raise _invalid(f"no {BUNDLE_KEY_PREFIX}<project> entry at the top level")
    info = data[bundle_key]
    if not isinstance(info, dict):
        raise _invalid(f"{bundle_key} must be a map")

    send_targets: dict[str, list[str]] = {}
    for fn, targets in _section(info, "send_targets", dict, {}).items():
        if isinstance(targets, list):
            send_targets[fn] = [t for t in targets if isinstance(t, str)]

    handlers = []
    seen_handlers: set[tuple[str, str]] = set()
    for event_type, item, where in _artifacts(info, "event_handlers"):
        common = _common(item, where)
        if (event_type, common["fn"]) in seen_handlers:
            continue
        seen_handlers.add((event_type, common["fn"]))
        common["meta"] = _merge_sends(common["meta"], send_targets.get(common["fn"]))
        handlers.append(
            EventHandler(event_type=event_type, once=common["meta"].get("once") is True, **common)
        )

    schedules = []
    seen_schedules: set[tuple[str, str]] = set()
    for cron, item, where in _artifacts(info, "scheduled_functions"):
        common = _common(item, where)
        if (cron, common["fn"]) in seen_schedules:
            continue
        seen_schedules.add((cron, common["fn"]))
        schedules.append(Schedule(cron=cron, **common))

    requirements = []
    for i, item in enumerate(_section(info, "ctx_requirements", list, [])):
        where = f"ctx_requirements[{i}]"
        # Older CLIs wrote plain key strings; newer ones write maps.
        if isinstance(item, str):
            requirements.append(ContextRequirement(key=item))
        elif isinstance(item, dict) and isinstance(item.get("key"), str):
            requirements.append(
                ContextRequirement(
                    key=item["key"],
                    declared_by=_opt_str(item, "declared-by", where),
                    source_file=_opt_str(item, "source-file", where),
                )
            )
        else:
            raise _invalid(f"{where} must be a string or a map with a key")

    return Manifest(
        project_name=bundle_key[len(BUNDLE_KEY_PREFIX) :],
        bundle_id=_opt_str(info, "bundle_id", bundle_key),
        bundle_hash=_opt_str(info, "bundle_hash", bundle_key),
        engine_version=_opt_str(info, "engine_version", bundle_key),
        hot_std_version=_opt_str(info, "hot_std_version", bundle_key),
        created_at=_opt_str(info, "created_at", bundle_key),
        files=_listed_files(info, "files"),
        resources=_listed_files(info, "resources"),
        event_handlers=tuple(handlers),
        schedules=tuple(schedules),
        context_requirements=tuple(requirements),
        send_targets=send_targets,
        raw=data,
        webhooks=_webhooks(info),
        mcp_tools=_mcp_tools(info),
        unserved=unserved_sections(info),
    )


def parse_manifest(
    data: bytes | str,
    *,
    max_bytes: int = 8 * 1024 * 1024,
    max_depth: int = 64,
    max_values: int = 250_000,
) -> Manifest:
    """Parse and interpret ``manifest.hot`` in one step."""
    return interpret_manifest(
        parse_hot_data(data, max_bytes=max_bytes, max_depth=max_depth, max_values=max_values)
    )
