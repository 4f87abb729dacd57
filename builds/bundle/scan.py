"""Light discovery of handlers and schedules in ``.hot`` sources.

Only a fallback for bundles without ``manifest.hot`` (hand-made test bundles):
the Hot server itself discovers from the manifest alone. This is not a parser.
It blanks out comments and string contents so that ``meta {on-event: ...}``
written inside docs is not picked up, then looks for top-level
``<var> meta {...}`` (the meta may also stand right before the var it
describes) and reads ``on-event``, ``schedule`` and ``once`` from the map.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import BundleError
from .manifest import EventHandler, Schedule, interpret_endpoints, parse_hot_data, to_jsonable

_IDENT = r"[A-Za-z_$][A-Za-z0-9_$\-?!*]*"
_NS_RE = re.compile(r"^[ \t]*((?:::" + _IDENT + r")+)[ \t]+ns\b", re.MULTILINE)
_META_RE = re.compile(r"(?<![A-Za-z0-9_$\-?!*])meta[ \t\r\n]*\{")
_LINE_IDENT_RE = re.compile(r"[ \t]*(" + _IDENT + r")")
_NEXT_LINE_IDENT_RE = re.compile(r"[ \t\r]*\n[ \t]*(" + _IDENT + r")")
_KEY_RE = re.compile(r"(?<![A-Za-z0-9_$\-])(on-event|schedule|once)[ \t\r\n]*:[ \t\r\n]*")
_ENDPOINT_KEY_RE = re.compile(r"(?<![A-Za-z0-9_$\-])(webhook|mcp)[ \t\r\n]*:")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
# Words that can stand before `meta` without being a var definition.
_NOT_VARS = {"ns", "type", "fn", "enum", "meta", "true", "false", "null"}
_OPEN, _CLOSE = "{[(", "}])"


@dataclass
class ScanResult:
    event_handlers: list[EventHandler] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The manifest's ``webhooks`` and ``mcp_tools`` sections (service → entries), as the CLI
    # writes them: the function, its whole meta map and where it is defined.
    webhooks: dict[str, list[dict]] = field(default_factory=dict)
    mcp_tools: dict[str, list[dict]] = field(default_factory=dict)


def _mask(text: str) -> str:
    """Replace comments and string/template contents with spaces, keeping offsets.

    Quote characters themselves are kept so values can be located afterwards.
    """
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end)
            i = end
        elif text.startswith('"""', i) or text.startswith("```", i):
            quote = text[i : i + 3]
            end = text.find(quote, i + 3)
            end = n if end < 0 else end
            blank(i + 3, end)
            i = end + 3
        elif text[i] in '"`':
            quote = text[i]
            j = i + 1
            while j < n and text[j] != quote:
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _depths(masked: str) -> list[int]:
    """Bracket depth before each character of the masked text."""
    depths = []
    depth = 0
    for ch in masked:
        depths.append(depth)
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return depths


def _matching(masked: str, open_pos: int) -> int:
    depth = 0
    for k in range(open_pos, len(masked)):
        if masked[k] in _OPEN:
            depth += 1
        elif masked[k] in _CLOSE:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _read_string(text: str, pos: int) -> str | None:
    if not text.startswith('"', pos) or text.startswith('"""', pos):
        return None
    out = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out)
        if ch == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(ch)
        i += 1
    return None


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _col_of(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1) + 1


def _var_before(masked: str, pos: int) -> tuple[str, int] | None:
    """The identifier that starts the line holding the token right before ``pos``."""
    k = pos - 1
    while k >= 0 and masked[k].isspace():
        k -= 1
    if k < 0:
        return None
    line_start = masked.rfind("\n", 0, k + 1) + 1
    match = _LINE_IDENT_RE.match(masked, line_start)
    if match and match.end(1) == k + 1 and match.group(1) not in _NOT_VARS:
        return match.group(1), match.start(1)
    return None


def _var_after(masked: str, pos: int) -> tuple[str, int] | None:
    """An identifier starting the next line after ``pos`` (meta written before the var)."""
    match = _NEXT_LINE_IDENT_RE.match(masked, pos)
    if match and match.group(1) not in _NOT_VARS:
        return match.group(1), match.start(1)
    return None


def _endpoint_meta(text: str, masked: str, depths: list[int], open_pos: int, close_pos: int):
    """The whole meta map when it declares ``webhook`` or ``mcp`` (None when it does not;
    ``{}`` when it cannot be read as data, e.g. it names a type)."""
    keys = _ENDPOINT_KEY_RE.finditer(masked, open_pos + 1, close_pos)
    if not any(depths[key.start()] == 1 for key in keys):
        return None
    try:
        meta = parse_hot_data(text[open_pos : close_pos + 1])
    except BundleError:
        return {}
    return to_jsonable(meta) if isinstance(meta, dict) else {}


def _add_endpoints(result: ScanResult, meta: dict, common: dict, where: str) -> None:
    entry = {
        "fn": common["fn"],
        "meta": meta,
        **{key: common[key] for key in ("file", "line", "column", "position")},
    }
    found = {}
    for kind, section in (("webhook", "webhooks"), ("mcp", "mcp_tools")):
        inner = meta.get(kind)
        if isinstance(inner, dict):
            found[section] = {str(inner.get("service") or ""): [entry]}
    try:
        interpret_endpoints(found)  # the manifest's own checks, so the CLI would agree
    except BundleError as exc:
        result.warnings.append(f"{where}: {exc.message}")
        return
    for section, groups in found.items():
        for service, entries in groups.items():
            getattr(result, section).setdefault(service, []).extend(entries)


def scan_source(path: str, text: str) -> ScanResult:
    """Find ``on-event`` handlers and ``schedule`` functions in one ``.hot`` file."""
    result = ScanResult()
    masked = _mask(text)
    depths = _depths(masked)
    namespaces = [(m.start(), m.group(1)) for m in _NS_RE.finditer(masked)]

    for meta in _META_RE.finditer(masked):
        if depths[meta.start()] != 0:
            continue  # inside a function body or a literal: not a var's meta
        open_pos = meta.end() - 1
        close_pos = _matching(masked, open_pos)
        if close_pos < 0:
            result.warnings.append(f"{path}:{_line_of(text, meta.start())}: unterminated meta map")
            continue
        values: dict[str, object] = {}
        for key in _KEY_RE.finditer(masked, open_pos + 1, close_pos):
            if depths[key.start()] != 1:
                continue  # a nested map, e.g. retry: {...}
            value_pos = key.end()
            if key.group(1) == "once":
                values["once"] = masked.startswith("true", value_pos)
            else:
                string = _read_string(text, value_pos)
                if string is not None:
                    values[key.group(1)] = string
        endpoint_meta = _endpoint_meta(text, masked, depths, open_pos, close_pos)
        if "on-event" not in values and "schedule" not in values and endpoint_meta is None:
            continue
        var = _var_before(masked, meta.start()) or _var_after(masked, close_pos + 1)
        line = _line_of(text, meta.start())
        if var is None:
            result.warnings.append(f"{path}:{line}: a handler's meta but no var name")
            continue
        name, name_pos = var
        ns = next((n for start, n in reversed(namespaces) if start < name_pos), None)
        if ns is None:
            result.warnings.append(f"{path}:{line}: {name} is not inside an 'ns' declaration")
            continue
        fn = f"{ns}/{name}"
        common = {
            "fn": fn,
            "ns": ns,
            "var": name,
            "file": path,
            "line": _line_of(text, name_pos),
            "column": _col_of(text, name_pos),
            "position": name_pos,
        }
        meta_values = dict(values)
        if isinstance(values.get("on-event"), str):
            result.event_handlers.append(
                EventHandler(
                    event_type=str(values["on-event"]),
                    once=values.get("once") is True,
                    meta=meta_values,
                    **common,
                )
            )
        if isinstance(values.get("schedule"), str):
            result.schedules.append(
                Schedule(cron=str(values["schedule"]), meta=meta_values, **common)
            )
        if endpoint_meta == {}:
            result.warnings.append(f"{path}:{line}: webhook/mcp meta is not plain data; skipped")
        elif endpoint_meta:
            _add_endpoints(result, endpoint_meta, common, f"{path}:{line}")
    return result


def scan_sources(sources: Mapping[str, str]) -> ScanResult:
    """scan_source over every file, in path order."""
    total = ScanResult()
    for path in sorted(sources):
        part = scan_source(path, sources[path])
        total.event_handlers.extend(part.event_handlers)
        total.schedules.extend(part.schedules)
        total.warnings.extend(part.warnings)
        for section in ("webhooks", "mcp_tools"):
            for service, entries in getattr(part, section).items():
                getattr(total, section).setdefault(service, []).extend(entries)
    return total
