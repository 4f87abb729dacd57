"""Writing Hot bundles the way the ``hot`` CLI lays them out, for users without the CLI.

A bundle is a zip whose entries are zstd-compressed (zip method 93): ``manifest.hot`` first,
then the project's sources under ``hot/src/`` (sorted), dependency sources under
``hot/pkg/``, resources under ``resources/`` and the generated docs under ``docs/``. The
manifest lists every file with its BLAKE3 hash and size, the event handlers and scheduled
functions, and the BLAKE3 bundle hash the CLI sends with an upload.

Python's ``zipfile`` cannot write method 93, so :func:`write_zip` writes the zip records
itself. It writes entries exactly as described and checks nothing, so the tests build hostile
bundles with it too; :func:`bundle_project` is the safe way in (a Hot project directory).

Handlers and schedules of a project directory are found by the source scan (``scan``): the
manifest carries their ``on-event``, ``schedule`` and ``once`` meta, not the rest of the meta
map (the CLI's compiler records all of it; the server needs only these). Webhooks and MCP tools
carry their whole meta map (it must be plain data); their schemas are left to the server.
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import zstandard

from .hashing import blake3_hex, bundle_hash
from .manifest import MANIFEST_NAME, EventHandler, Schedule
from .scan import scan_sources

STORED, DEFLATED, ZSTD = 0, 8, 93
METHODS = {"stored": STORED, "deflate": DEFLATED, "zstd": ZSTD}

# The Hot release whose layout this writer follows (recorded as the manifest's engine).
ENGINE_VERSION = "2.6.9"
PROJECT_DOCS_PATH = "docs/project/docs.json"

# hot-std registers these in every CLI manifest; the platform implements them natively.
SYSTEM_HANDLERS = (
    ("hot:call", "::hot::lang/call-event-handler"),
    ("hot:schedule", "::hot::lang/schedule-event-handler"),
    ("hot:schedule:new", "::hot::lang/schedule-new-event-handler"),
    ("hot:schedule:cancel", "::hot::lang/schedule-cancel-event-handler"),
)

_DOS_TIME = 0  # 00:00:00: entries carry a fixed time, so equal inputs give equal zips
_DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1  # 2026-01-01
_IDENT_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


class BundleWriteError(Exception):
    """The directory cannot be made into a bundle (the message says why)."""


# -- zip records -------------------------------------------------------------------------


@dataclass
class RawEntry:
    """One zip entry, written exactly as described (no safety checks)."""

    name: str | bytes
    data: bytes = b""
    method: int = ZSTD
    mode: int | None = 0o100644  # unix mode in external_attr; None records none
    flags: int = 0
    declared_size: int | None = None  # an uncompressed size other than the data's
    compressed: bytes | None = None  # these bytes as the payload, verbatim
    crc: int | None = None

    @property
    def is_dir(self) -> bool:
        name = self.name if isinstance(self.name, str) else self.name.decode("utf-8", "replace")
        return name.endswith("/")


def compress(data: bytes, method: int) -> bytes:
    if method == STORED:
        return data
    if method == DEFLATED:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush()
    if method == ZSTD:
        # As the Rust zip crate writes it: one frame with the content size recorded.
        return zstandard.ZstdCompressor(level=3).compress(data)
    raise ValueError(f"cannot compress with method {method}")


def _version_needed(method: int) -> int:
    return {STORED: 10, DEFLATED: 20, ZSTD: 63}.get(method, 20)


def _local_header(entry: RawEntry, raw_name: bytes, flags: int, payload: bytes) -> bytes:
    return struct.pack(
        "<4s5H3L2H",
        b"PK\x03\x04",
        _version_needed(entry.method),
        flags,
        entry.method,
        _DOS_TIME,
        _DOS_DATE,
        _crc(entry),
        len(payload),
        _size(entry),
        len(raw_name),
        0,
    )


def _central_header(
    entry: RawEntry, raw_name: bytes, flags: int, payload: bytes, offset: int
) -> bytes:
    external = entry.mode << 16 if entry.mode is not None else 0
    if entry.is_dir:
        external |= 0x10  # MS-DOS directory attribute
    return struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        (3 << 8) | 63,  # made by: unix, zip 6.3
        _version_needed(entry.method),
        flags,
        entry.method,
        _DOS_TIME,
        _DOS_DATE,
        _crc(entry),
        len(payload),
        _size(entry),
        len(raw_name),
        0,
        0,
        0,
        0,
        external,
        offset,
    )


def _crc(entry: RawEntry) -> int:
    return entry.crc if entry.crc is not None else zlib.crc32(entry.data)


def _size(entry: RawEntry) -> int:
    return entry.declared_size if entry.declared_size is not None else len(entry.data)


def write_zip(entries: Iterable[RawEntry]) -> bytes:
    """Serialize entries into zip bytes: local headers and data, central directory, end."""
    out = bytearray()
    central = bytearray()
    count = 0
    for entry in entries:
        count += 1
        raw_name = entry.name.encode("utf-8") if isinstance(entry.name, str) else entry.name
        flags = entry.flags | (0x0800 if any(b > 0x7F for b in raw_name) else 0)  # UTF-8 name
        payload = (
            entry.compressed if entry.compressed is not None else compress(entry.data, entry.method)
        )
        offset = len(out)
        out += _local_header(entry, raw_name, flags, payload) + raw_name + payload
        central += _central_header(entry, raw_name, flags, payload, offset) + raw_name
    directory_offset = len(out)
    out += central
    out += struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), directory_offset, 0
    )
    return bytes(out)


# -- manifest.hot ------------------------------------------------------------------------


def to_hot(value: Any, indent: int = 0) -> str:
    """Hot data literal text, pretty-printed as the CLI writes manifests."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{_hot_key(k)}: {to_hot(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [f"{pad}{to_hot(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _hot_string(value)
    raise TypeError(f"cannot write {type(value).__name__} as Hot data")


def _hot_key(key: str) -> str:
    return key if _IDENT_KEY.match(key) else _hot_string(key)


def _hot_string(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def source_order(paths: Iterable[str]) -> list[str]:
    """The CLI lists and hashes project sources (sorted) before dependency sources."""
    paths = list(paths)
    return sorted(p for p in paths if p.startswith("hot/src/")) + sorted(
        p for p in paths if p.startswith("hot/pkg/")
    )


def _artifact(item: EventHandler | Schedule, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "fn": item.fn,
        "meta": meta,
        "file": item.file or "",
        "line": item.line or 1,
        "column": item.column or 1,
        "position": item.position or 0,
    }


def _handler_entries(
    handlers: Iterable[EventHandler], include_system: bool
) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for handler in handlers:
        meta = dict(handler.meta) or {"on-event": handler.event_type}
        if handler.once:
            meta["once"] = True
        grouped.setdefault(handler.event_type, []).append(_artifact(handler, meta))
    if include_system:
        for event_type, fn in SYSTEM_HANDLERS:
            grouped.setdefault(event_type, []).append(
                {
                    "fn": fn,
                    "meta": {"on-event": event_type, "once": True},
                    "file": "hot-std:hot/lang.hot",
                    "line": 1,
                    "column": 1,
                    "position": 0,
                }
            )
    return grouped


def _schedule_entries(schedules: Iterable[Schedule]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for schedule in schedules:
        meta = dict(schedule.meta) or {"schedule": schedule.cron}
        grouped.setdefault(schedule.cron, []).append(_artifact(schedule, meta))
    return grouped


def compute_bundle_hash(sources: Mapping[str, bytes], resources: Mapping[str, bytes]) -> str:
    """The CLI's bundle hash over sources in bundle order and resources by relative path."""
    return bundle_hash(
        (blake3_hex(sources[path]) for path in source_order(sources)),
        ((rel, blake3_hex(resources[rel])) for rel in sorted(resources)),
    )


def manifest_data(
    *,
    project: str,
    sources: Mapping[str, bytes],
    resources: Mapping[str, bytes] | None = None,
    event_handlers: Iterable[EventHandler] = (),
    schedules: Iterable[Schedule] = (),
    ctx_requirements: Iterable[dict[str, Any]] = (),
    bundle_id: str | None = None,
    created_at: str | None = None,
    engine_version: str = ENGINE_VERSION,
    include_system_handlers: bool = True,
    bundle_hash: str | None = None,
    file_hash_overrides: Mapping[str, str] | None = None,
    webhooks: Mapping[str, list[dict[str, Any]]] | None = None,
    mcp_tools: Mapping[str, list[dict[str, Any]]] | None = None,
    extra_sections: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The data of ``manifest.hot`` the CLI writes for these files. ``webhooks`` and
    ``mcp_tools`` are the CLI's artifact maps (service → entries); ``extra_sections`` are
    added to the bundle map as given."""
    resources = resources or {}
    overrides = file_hash_overrides or {}

    def listed(path: str, content: bytes, key: str) -> dict[str, Any]:
        return {"path": path, "hash": overrides.get(key, blake3_hex(content)), "size": len(content)}

    return {
        f"hot.bundle.{project}": {
            "bundle_id": bundle_id or str(uuid.uuid4()),
            "bundle_hash": bundle_hash or compute_bundle_hash(sources, resources),
            "engine_version": engine_version,
            "hot_std_version": engine_version,
            "files": [listed(p, sources[p], p) for p in source_order(sources)],
            "resources": [listed(r, resources[r], r) for r in sorted(resources)],
            "event_handlers": _handler_entries(event_handlers, include_system_handlers),
            "scheduled_functions": _schedule_entries(schedules),
            "mcp_tools": dict(mcp_tools or {}),
            "webhooks": dict(webhooks or {}),
            "agents": [],
            "workflows": [],
            "send_targets": {},
            "ctx_requirements": list(ctx_requirements),
            "box_requirements": {},
            "created_at": created_at or datetime.now(UTC).isoformat(),
            **(extra_sections or {}),
        }
    }


# -- bundles -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenBundle:
    data: bytes  # the zip
    bundle_hash: str  # BLAKE3 bundle hash: send it as the upload's ``hash``
    project: str
    source_count: int
    resource_count: int
    event_handlers: tuple[EventHandler, ...] = ()
    schedules: tuple[Schedule, ...] = ()


def bundle_entries(
    *,
    manifest: bytes | None,
    sources: Mapping[str, bytes],
    resources: Mapping[str, bytes] | None = None,
    method: int = ZSTD,
    include_docs: bool = True,
) -> list[RawEntry]:
    """The entries in the CLI's order: manifest, sources, resources, docs."""
    entries = [RawEntry(MANIFEST_NAME, manifest, method)] if manifest is not None else []
    ordered = source_order(sources)
    others = [p for p in sources if p not in ordered]
    entries += [RawEntry(path, sources[path], method) for path in ordered + others]
    entries += [
        RawEntry(f"resources/{rel}", content, method)
        for rel, content in sorted((resources or {}).items())
    ]
    if include_docs:
        entries.append(RawEntry(PROJECT_DOCS_PATH, b'{"namespaces": []}', method))
    return entries


# -- a Hot project directory -------------------------------------------------------------

CONF_NAME = "hot.hot"
DEFAULT_SRC_PATHS = ("./hot/src",)
DEFAULT_RESOURCE_PATHS = ("./hot/resources",)
_SKIPPED_DIRS = {".git", ".hot", "node_modules", "target", "__pycache__"}
_SET_PROJECT = re.compile(r'^\s*hot\.set\.project\s+"([^"\n]+)"', re.MULTILINE)


def _conf_paths(conf: str, project: str, kind: str) -> list[str] | None:
    """``hot.project.<name>.<kind>.paths ["./a", "./b"]`` when written as plain strings."""
    pattern = re.compile(
        r"^\s*hot\.project\." + re.escape(project) + r"\." + kind + r"\.paths\s+\[([^\]]*)\]",
        re.MULTILINE,
    )
    match = pattern.search(conf)
    return re.findall(r'"([^"\n]+)"', match.group(1)) if match else None


@dataclass(frozen=True)
class ProjectLayout:
    name: str
    src_dirs: tuple[Path, ...]
    resource_dirs: tuple[Path, ...]


def project_layout(root: Path, name: str | None = None) -> ProjectLayout:
    """Where a project keeps its sources: ``hot.hot`` when it says so (``hot.set.project``,
    ``hot.project.<name>.src.paths``, ``.resources.paths``), else the CLI's defaults
    (``hot/src``, ``hot/resources``, the directory's name)."""
    conf = (root / CONF_NAME).read_text("utf-8") if (root / CONF_NAME).is_file() else ""
    found = _SET_PROJECT.search(conf)
    name = name or (found.group(1) if found else root.resolve().name)
    src = _conf_paths(conf, name, "src") or list(DEFAULT_SRC_PATHS)
    resources = _conf_paths(conf, name, "resources") or list(DEFAULT_RESOURCE_PATHS)
    return ProjectLayout(
        name=name,
        src_dirs=tuple((root / path).resolve() for path in src),
        resource_dirs=tuple((root / path).resolve() for path in resources),
    )


def _files_under(folder: Path, suffix: str | None = None) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink():
            raise BundleWriteError(f"{path}: symbolic links cannot be bundled")
        if path.is_file() and (suffix is None or path.suffix == suffix):
            found[relative.as_posix()] = path.read_bytes()
    return found


def bundle_project(root: str | Path, *, name: str | None = None) -> WrittenBundle:
    """Bundle the Hot project in ``root`` as ``hot build`` would."""
    root = Path(root)
    if not root.is_dir():
        raise BundleWriteError(f"{root} is not a directory")
    layout = project_layout(root, name)
    sources: dict[str, bytes] = {}
    for folder in layout.src_dirs:
        for relative, content in _files_under(folder, ".hot").items():
            sources.setdefault(f"hot/src/{relative}", content)
    if not sources:
        folders = ", ".join(str(folder) for folder in layout.src_dirs)
        raise BundleWriteError(f"No .hot files found in the source folders ({folders})")
    resources: dict[str, bytes] = {}
    for folder in layout.resource_dirs:
        for relative, content in _files_under(folder).items():
            resources.setdefault(relative, content)
    try:
        texts = {path: content.decode("utf-8") for path, content in sources.items()}
    except UnicodeDecodeError as exc:
        raise BundleWriteError(f"A source file is not UTF-8 text: {exc}") from None
    found = scan_sources(texts)
    manifest = manifest_data(
        project=layout.name,
        sources=sources,
        resources=resources,
        event_handlers=found.event_handlers,
        schedules=found.schedules,
        webhooks=found.webhooks,
        mcp_tools=found.mcp_tools,
    )
    data = write_zip(
        bundle_entries(
            manifest=to_hot(manifest).encode("utf-8"), sources=sources, resources=resources
        )
    )
    return WrittenBundle(
        data=data,
        bundle_hash=manifest[f"hot.bundle.{layout.name}"]["bundle_hash"],
        project=layout.name,
        source_count=len(sources),
        resource_count=len(resources),
        event_handlers=tuple(found.event_handlers),
        schedules=tuple(found.schedules),
    )


def write_bundle_file(
    root: str | Path, output: str | Path | None = None, *, name: str | None = None
) -> tuple[WrittenBundle, Path]:
    """Bundle ``root`` into ``output`` (default ``<project>.hot.zip`` in the current folder)."""
    bundle = bundle_project(root, name=name)
    target = Path(output) if output else Path(f"{bundle.project}.hot.zip")
    target.write_bytes(bundle.data)
    return bundle, target


def summary(bundle: WrittenBundle, target: Path) -> str:
    handlers = ", ".join(sorted({h.event_type for h in bundle.event_handlers})) or "none"
    schedules = ", ".join(sorted({s.cron for s in bundle.schedules})) or "none"
    return (
        f"Wrote {target} ({len(bundle.data)} bytes): project {bundle.project}, "
        f"{bundle.source_count} source file(s), {bundle.resource_count} resource(s); "
        f"handlers: {handlers}; schedules: {schedules}. The bundle hash is on stdout."
    )
