"""Build real Hot bundles (and hostile ones) in Python for tests.

A bundle here is what ``hot build`` writes: a zip whose entries are zstd-compressed
(zip method 93), with ``manifest.hot`` first, project sources under ``hot/src/``,
dependency sources under ``hot/pkg/``, resources under ``resources/`` and generated
docs under ``docs/``; the manifest records BLAKE3 per-file hashes and the BLAKE3
bundle hash the CLI sends on upload.

Python's ``zipfile`` cannot write method 93, so :func:`write_zip` writes the zip
records itself. It deliberately performs no validation: hostile bundles (traversal,
symlinks, duplicates, lying sizes...) are built with the same function.

Typical use::

    data, bundle_hash = make_bundle()                      # zstd, default program
    data, bundle_hash = make_bundle(compression="deflate")
    bad = hostile("symlink")                                # HostileBundle(data, hash, code)
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import blake3
import zstandard

STORED, DEFLATED, ZSTD = 0, 8, 93
METHODS = {"stored": STORED, "deflate": DEFLATED, "zstd": ZSTD}

ENGINE_VERSION = "2.6.9"
DEFAULT_PROJECT = "app"
DEFAULT_BUNDLE_ID = "0196f1c2-7b1e-7a53-9c1e-5d2f8a9b0c11"
DEFAULT_CREATED_AT = "2026-01-01T00:00:00+00:00"
DEFAULT_SOURCE_PATH = "hot/src/app/main.hot"

# A small but realistic Hot program: one event handler, one scheduled function.
DEFAULT_SOURCE = """\
::app::main ns

// Welcome a new user; retried twice if the email service is down.
on-signup
meta {on-event: "user.signup", retry: 2}
fn (event) {
  user event.data
  send("email.welcome", {to: user.email, name: user.name})
  {welcomed: user.email}
}

/* Nightly digest of yesterday's signups. */
nightly-digest
meta {schedule: "every day at 2:00 am"}
fn (event) {
  send("digest.build", {day: event.scheduled_at})
}
"""

# hot-std registers these in every CLI manifest (hot/pkg/hot-std/src/hot/lang.hot).
SYSTEM_HANDLERS = (
    ("hot:call", "::hot::lang/call-event-handler"),
    ("hot:schedule", "::hot::lang/schedule-event-handler"),
    ("hot:schedule:new", "::hot::lang/schedule-new-event-handler"),
    ("hot:schedule:cancel", "::hot::lang/schedule-cancel-event-handler"),
)

_DOS_TIME = (0 << 11) | (0 << 5) | 0  # 00:00:00
_DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1  # 2026-01-01
_IDENT_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


# -- zip writing -------------------------------------------------------------------------


@dataclass
class RawEntry:
    """One zip entry, written exactly as described (no safety checks)."""

    name: str | bytes
    data: bytes = b""
    method: int = ZSTD
    mode: int | None = 0o100644  # unix mode in external_attr; None records none
    flags: int = 0
    declared_size: int | None = None  # lie about the uncompressed size
    compressed: bytes | None = None  # use these bytes as the payload verbatim
    crc: int | None = None

    @property
    def is_dir(self) -> bool:
        name = self.name if isinstance(self.name, str) else self.name.decode("utf-8", "replace")
        return name.endswith("/")


def compress(data: bytes, method: int) -> bytes:
    if method == STORED:
        return data
    if method == DEFLATED:
        comp = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return comp.compress(data) + comp.flush()
    if method == ZSTD:
        # Like the Rust zip crate: one frame, content size recorded.
        return zstandard.ZstdCompressor(level=3).compress(data)
    raise ValueError(f"cannot compress with method {method}")


def _version_needed(method: int) -> int:
    return {STORED: 10, DEFLATED: 20, ZSTD: 63}.get(method, 20)


def write_zip(entries: Iterable[RawEntry]) -> bytes:
    """Serialize entries into zip bytes: local headers, data, central directory, end."""
    out = bytearray()
    central = bytearray()
    count = 0
    for entry in entries:
        count += 1
        raw_name = entry.name.encode("utf-8") if isinstance(entry.name, str) else entry.name
        flags = entry.flags
        if any(b > 0x7F for b in raw_name):
            flags |= 0x0800
        payload = (
            entry.compressed if entry.compressed is not None else compress(entry.data, entry.method)
        )
        crc = entry.crc if entry.crc is not None else zlib.crc32(entry.data)
        size = entry.declared_size if entry.declared_size is not None else len(entry.data)
        version = _version_needed(entry.method)
        offset = len(out)
        out += struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            version,
            flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            len(payload),
            size,
            len(raw_name),
            0,
        )
        out += raw_name
        out += payload
        external = 0
        if entry.mode is not None:
            external = entry.mode << 16
        if entry.is_dir:
            external |= 0x10  # MS-DOS directory attribute
        central += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            (3 << 8) | 63,
            version,
            flags,
            entry.method,
            _DOS_TIME,
            _DOS_DATE,
            crc,
            len(payload),
            size,
            len(raw_name),
            0,
            0,
            0,
            0,
            external,
            offset,
        )
        central += raw_name
    cd_offset = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), cd_offset, 0)
    return bytes(out)


# -- Hot data literals -------------------------------------------------------------------


def to_hot(value: Any, indent: int = 0) -> str:
    """Pretty-print a value the way Hot's ``Val::pretty_print`` writes manifests."""
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


# -- bundles -----------------------------------------------------------------------------


def blake3_hex(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compute_bundle_hash(
    sources: Iterable[bytes], resources: Iterable[tuple[str, bytes]] = ()
) -> str:
    """The CLI's bundle hash, written independently of builds.bundle.hashing."""
    hasher = blake3.blake3()
    for content in sources:
        hasher.update(blake3_hex(content).encode())
    for rel_path, content in resources:
        hasher.update(rel_path.encode())
        hasher.update(blake3_hex(content).encode())
    return hasher.hexdigest()


def line_of(source: str, var: str) -> int:
    """1-based line on which ``var`` is defined (a line starting with the name)."""
    for number, line in enumerate(source.splitlines(), start=1):
        if re.match(re.escape(var) + r"(\s|$)", line):
            return number
    raise ValueError(f"{var} is not defined in the source")


@dataclass
class Handler:
    event_type: str
    fn: str  # ::ns/var
    file: str = DEFAULT_SOURCE_PATH
    line: int | None = None  # found in the file when None
    meta: dict[str, Any] | None = None  # {on-event: event_type} when None
    once: bool = False


@dataclass
class Sched:
    cron: str
    fn: str
    file: str = DEFAULT_SOURCE_PATH
    line: int | None = None
    meta: dict[str, Any] | None = None


DEFAULT_HANDLERS = (
    Handler("user.signup", "::app::main/on-signup", meta={"on-event": "user.signup", "retry": 2}),
)
DEFAULT_SCHEDULES = (Sched("every day at 2:00 am", "::app::main/nightly-digest"),)


def _artifact(
    fn: str, meta: dict[str, Any], file: str, line: int | None, files: Mapping[str, bytes]
) -> dict[str, Any]:
    var = fn.rpartition("/")[2]
    if line is None:
        text = files.get(file, b"").decode("utf-8", "replace")
        try:
            line = line_of(text, var)
        except ValueError:
            line = 1
    text = files.get(file, b"").decode("utf-8", "replace")
    lines = text.splitlines(keepends=True)
    position = sum(len(x.encode()) for x in lines[: line - 1])
    return {"fn": fn, "meta": meta, "file": file, "line": line, "column": 1, "position": position}


def manifest_data(
    files: Mapping[str, bytes],
    handlers: Iterable[Handler] = DEFAULT_HANDLERS,
    schedules: Iterable[Sched] = DEFAULT_SCHEDULES,
    *,
    project: str = DEFAULT_PROJECT,
    resources: Mapping[str, bytes] | None = None,
    ctx_requirements: Iterable[str | dict[str, Any]] = (),
    engine_version: str = ENGINE_VERSION,
    include_system_handlers: bool = True,
    bundle_hash: str | None = None,
    file_hash_overrides: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest.hot data the CLI would write for these files."""
    resources = resources or {}
    overrides = file_hash_overrides or {}
    order = _source_order(files)
    event_handlers: dict[str, list[dict[str, Any]]] = {}
    sends: dict[str, list[str]] = {}
    for h in handlers:
        meta = dict(h.meta) if h.meta is not None else {"on-event": h.event_type}
        if h.once:
            meta["once"] = True
        event_handlers.setdefault(h.event_type, []).append(
            _artifact(h.fn, meta, h.file, h.line, files)
        )
    if include_system_handlers:
        for event_type, fn in SYSTEM_HANDLERS:
            event_handlers.setdefault(event_type, []).append(
                {
                    "fn": fn,
                    "meta": {"on-event": event_type, "once": True},
                    "file": "hot-std:hot/lang.hot",
                    "line": 1,
                    "column": 1,
                    "position": 0,
                }
            )
    scheduled: dict[str, list[dict[str, Any]]] = {}
    for s in schedules:
        meta = dict(s.meta) if s.meta is not None else {"schedule": s.cron}
        scheduled.setdefault(s.cron, []).append(_artifact(s.fn, meta, s.file, s.line, files))
    ctx = [
        {"key": item, "declared-by": "::app::main"} if isinstance(item, str) else item
        for item in ctx_requirements
    ]
    resource_order = sorted(resources)
    if bundle_hash is None:
        bundle_hash = compute_bundle_hash(
            (files[p] for p in order), ((r, resources[r]) for r in resource_order)
        )
    return {
        f"hot.bundle.{project}": {
            "bundle_id": DEFAULT_BUNDLE_ID,
            "bundle_hash": bundle_hash,
            "engine_version": engine_version,
            "hot_std_version": engine_version,
            "files": [
                {"path": p, "hash": overrides.get(p, blake3_hex(files[p])), "size": len(files[p])}
                for p in order
            ],
            "resources": [
                {
                    "path": r,
                    "hash": overrides.get(r, blake3_hex(resources[r])),
                    "size": len(resources[r]),
                }
                for r in resource_order
            ],
            "event_handlers": event_handlers,
            "scheduled_functions": scheduled,
            "mcp_tools": {},
            "webhooks": {},
            "agents": [],
            "workflows": [],
            "send_targets": sends,
            "ctx_requirements": ctx,
            "box_requirements": {},
            "created_at": DEFAULT_CREATED_AT,
        }
    }


def _source_order(files: Mapping[str, bytes]) -> list[str]:
    # The CLI hashes and lists project sources first, then dependency sources.
    src = sorted(p for p in files if p.startswith("hot/src/"))
    pkg = sorted(p for p in files if p.startswith("hot/pkg/"))
    return src + pkg


def _as_bytes(files: Mapping[str, str | bytes]) -> dict[str, bytes]:
    return {p: (c.encode("utf-8") if isinstance(c, str) else c) for p, c in files.items()}


def make_bundle(
    files: Mapping[str, str | bytes] | None = None,
    handlers: Iterable[Handler] | None = None,
    schedules: Iterable[Sched] | None = None,
    *,
    compression: str = "zstd",
    project: str = DEFAULT_PROJECT,
    resources: Mapping[str, str | bytes] | None = None,
    ctx_requirements: Iterable[str | dict[str, Any]] = (),
    engine_version: str = ENGINE_VERSION,
    include_manifest: bool = True,
    include_system_handlers: bool = True,
    include_docs: bool = True,
    manifest_text: str | bytes | None = None,
    file_hash_overrides: Mapping[str, str] | None = None,
    extra_entries: Iterable[RawEntry] = (),
) -> tuple[bytes, str]:
    """Build a bundle the way the CLI does and return ``(zip bytes, bundle hash)``.

    ``files`` maps bundle paths (``hot/src/...``, ``hot/pkg/...``) to contents and
    defaults to :data:`DEFAULT_SOURCE`. With default ``files`` the default handler
    and schedule are declared; with custom ``files`` pass ``handlers``/``schedules``
    explicitly (default: none). ``manifest_text`` replaces the generated manifest
    verbatim; ``extra_entries`` are appended as-is (for hostile bundles).
    """
    method = METHODS[compression]
    if files is None:
        files = {DEFAULT_SOURCE_PATH: DEFAULT_SOURCE}
        handlers = DEFAULT_HANDLERS if handlers is None else handlers
        schedules = DEFAULT_SCHEDULES if schedules is None else schedules
    body = _as_bytes(files)
    res = _as_bytes(resources or {})
    order = _source_order(body)
    bundle_hash = compute_bundle_hash((body[p] for p in order), ((r, res[r]) for r in sorted(res)))
    entries: list[RawEntry] = []
    if include_manifest:
        if manifest_text is None:
            data = manifest_data(
                body,
                handlers or (),
                schedules or (),
                project=project,
                resources=res,
                ctx_requirements=ctx_requirements,
                engine_version=engine_version,
                include_system_handlers=include_system_handlers,
                file_hash_overrides=file_hash_overrides,
            )
            manifest_bytes = to_hot(data).encode("utf-8")
        else:
            manifest_bytes = (
                manifest_text.encode("utf-8") if isinstance(manifest_text, str) else manifest_text
            )
        entries.append(RawEntry("manifest.hot", manifest_bytes, method))
    others = [p for p in body if p not in order]
    for path in order + others:
        entries.append(RawEntry(path, body[path], method))
    for rel in sorted(res):
        entries.append(RawEntry(f"resources/{rel}", res[rel], method))
    if include_docs:
        entries.append(RawEntry("docs/project/docs.json", b'{"namespaces": []}', method))
    entries.extend(extra_entries)
    return write_zip(entries), bundle_hash


# -- hostile bundles ---------------------------------------------------------------------


@dataclass
class HostileBundle:
    name: str
    data: bytes
    client_hash: str  # the hash an uploader would send (SHA-256 unless the hash is the point)
    code: str  # BundleError code inspect_bundle must raise
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _hostile(
    name: str, data: bytes, code: str, description: str, client_hash: str | None = None
) -> HostileBundle:
    return HostileBundle(name, data, client_hash or sha256_hex(data), code, description)


def path_traversal() -> HostileBundle:
    data, _ = make_bundle(extra_entries=[RawEntry("hot/src/../../../etc/cron.d/evil", b"x")])
    return _hostile("path_traversal", data, "path_traversal", "entry escapes with ..")


def absolute_path() -> HostileBundle:
    data, _ = make_bundle(extra_entries=[RawEntry("/etc/passwd", b"root::0:0::/:/bin/sh\n")])
    return _hostile("absolute_path", data, "absolute_path", "entry with an absolute path")


def drive_path() -> HostileBundle:
    data, _ = make_bundle(extra_entries=[RawEntry("C:/Windows/evil.hot", b"x")])
    return _hostile("drive_path", data, "absolute_path", "entry with a drive letter")


def backslash_path() -> HostileBundle:
    data, _ = make_bundle(extra_entries=[RawEntry("hot\\src\\evil.hot", b"x")])
    return _hostile("backslash_path", data, "invalid_path", "entry with backslashes")


def symlink() -> HostileBundle:
    data, _ = make_bundle(
        extra_entries=[RawEntry("hot/src/app/link.hot", b"/etc/passwd", mode=0o120777)]
    )
    return _hostile("symlink", data, "symlink", "entry is a symbolic link")


def _zstd_zeros(size: int) -> bytes:
    # Compress in pieces so the test never holds the expanded bytes.
    cctx = zstandard.ZstdCompressor(level=3)
    chunk = bytes(1024 * 1024)
    comp = cctx.compressobj(size=size)
    parts = []
    left = size
    while left:
        piece = chunk[: min(left, len(chunk))]
        parts.append(comp.compress(piece))
        left -= len(piece)
    parts.append(comp.flush())
    return b"".join(parts)


def compression_bomb(size: int = 20 * 1024 * 1024) -> HostileBundle:
    """A zstd entry of ``size`` zero bytes: far beyond 1000:1, under the size limits."""
    payload = _zstd_zeros(size)
    entry = RawEntry("resources/zeros.bin", compressed=payload, declared_size=size, crc=0)
    data, _ = make_bundle(extra_entries=[entry])
    return _hostile("compression_bomb", data, "compression_ratio", f"{size} zeros compressed")


def lying_bomb(size: int = 200 * 1024 * 1024) -> HostileBundle:
    """Headers claim a 1 KiB file at a plausible ratio; the stream expands to ``size``.

    Only counting the bytes that actually come out of the decompressor catches it.
    """
    payload = _zstd_zeros(size)
    entry = RawEntry(
        "resources/small.txt", compressed=payload, declared_size=len(payload) * 2, crc=0
    )
    data, _ = make_bundle(extra_entries=[entry])
    return _hostile("lying_bomb", data, "compression_ratio", "sizes in the headers lie")


def too_many_entries(count: int = 10_001) -> HostileBundle:
    entries = [RawEntry(f"resources/f{i}.txt", b"", STORED) for i in range(count)]
    data, _ = make_bundle(extra_entries=entries)
    return _hostile("too_many_entries", data, "too_many_entries", f"{count} extra entries")


def duplicate_names() -> HostileBundle:
    data, _ = make_bundle(
        extra_entries=[RawEntry(DEFAULT_SOURCE_PATH, b'::app::main ns\nx "shadowed"\n')]
    )
    return _hostile("duplicate_names", data, "duplicate_entry", "two entries with one name")


def oversized_manifest(size: int = 8 * 1024 * 1024 + 1024) -> HostileBundle:
    """A manifest over Hot's 8 MiB cap, made of incompressible text."""
    filler = os.urandom(size // 2 + 1).hex()[:size]
    text = '{\n  padding: "' + filler + '"\n}\n'
    data, _ = make_bundle(manifest_text=text)
    return _hostile("oversized_manifest", data, "manifest_too_large", "manifest.hot > 8 MiB")


def deeply_nested_manifest(depth: int = 200) -> HostileBundle:
    text = to_hot(manifest_data({DEFAULT_SOURCE_PATH: DEFAULT_SOURCE.encode()}))
    nested = "[" * depth + "]" * depth
    text = text.replace("box_requirements: {}", "box_requirements: " + nested)
    data, _ = make_bundle(manifest_text=text)
    return _hostile("deeply_nested_manifest", data, "manifest_too_deep", f"{depth} nested vectors")


def malformed_manifest() -> HostileBundle:
    text = to_hot(manifest_data({DEFAULT_SOURCE_PATH: DEFAULT_SOURCE.encode()}))
    text = text.replace('engine_version: "', "engine_version: run-this(", 1)
    data, _ = make_bundle(manifest_text=text)
    return _hostile("malformed_manifest", data, "manifest_invalid", "a call in manifest.hot")


def invalid_cron() -> HostileBundle:
    source = DEFAULT_SOURCE.replace("every day at 2:00 am", "every blue moon")
    data, _ = make_bundle(
        {DEFAULT_SOURCE_PATH: source},
        handlers=DEFAULT_HANDLERS,
        schedules=[Sched("every blue moon", "::app::main/nightly-digest")],
    )
    return _hostile("invalid_cron", data, "invalid_cron", "schedule 'every blue moon'")


def hash_mismatch() -> HostileBundle:
    data, _ = make_bundle()
    wrong = blake3_hex(b"some other bundle")
    return _hostile("hash_mismatch", data, "hash_mismatch", "client hash is wrong", wrong)


def tampered_source() -> HostileBundle:
    """The manifest and bundle hash describe the original; a source was swapped after."""
    _, bundle_hash = make_bundle()
    evil = DEFAULT_SOURCE.replace('"email.welcome"', '"exfiltrate"').encode()
    honest = {DEFAULT_SOURCE_PATH: blake3_hex(DEFAULT_SOURCE.encode())}
    data, _ = make_bundle(
        {DEFAULT_SOURCE_PATH: evil}, DEFAULT_HANDLERS, DEFAULT_SCHEDULES, file_hash_overrides=honest
    )
    return _hostile(
        "tampered_source", data, "hash_mismatch", "manifest hashes do not match", bundle_hash
    )


def not_a_zip() -> HostileBundle:
    return _hostile("not_a_zip", b"this is not a zip archive\n" * 40, "not_a_zip", "plain text")


def empty() -> HostileBundle:
    return _hostile("empty", b"", "empty_bundle", "zero bytes")


def empty_zip() -> HostileBundle:
    return _hostile("empty_zip", write_zip([]), "empty_bundle", "a zip with no entries")


def encrypted_entry() -> HostileBundle:
    data, _ = make_bundle(extra_entries=[RawEntry("resources/secret.txt", b"x", STORED, flags=1)])
    return _hostile("encrypted_entry", data, "encrypted_entry", "traditional PKWARE encryption")


def unsupported_method() -> HostileBundle:
    entry = RawEntry("resources/a.bz2", b"x", method=12, compressed=b"BZh9")
    data, _ = make_bundle(extra_entries=[entry])
    return _hostile("unsupported_method", data, "unsupported_compression", "bzip2 (method 12)")


def path_too_long() -> HostileBundle:
    name = "resources/" + "a" * 1100
    data, _ = make_bundle(extra_entries=[RawEntry(name, b"x")])
    return _hostile("path_too_long", data, "path_too_long", "1,110-byte path")


def path_too_deep() -> HostileBundle:
    name = "resources/" + "d/" * 40 + "f.txt"
    data, _ = make_bundle(extra_entries=[RawEntry(name, b"x")])
    return _hostile("path_too_deep", data, "path_too_deep", "42 levels deep")


HOSTILE: dict[str, Callable[[], HostileBundle]] = {
    "path_traversal": path_traversal,
    "absolute_path": absolute_path,
    "drive_path": drive_path,
    "backslash_path": backslash_path,
    "symlink": symlink,
    "compression_bomb": compression_bomb,
    "lying_bomb": lying_bomb,
    "too_many_entries": too_many_entries,
    "duplicate_names": duplicate_names,
    "oversized_manifest": oversized_manifest,
    "deeply_nested_manifest": deeply_nested_manifest,
    "malformed_manifest": malformed_manifest,
    "invalid_cron": invalid_cron,
    "hash_mismatch": hash_mismatch,
    "tampered_source": tampered_source,
    "not_a_zip": not_a_zip,
    "empty": empty,
    "empty_zip": empty_zip,
    "encrypted_entry": encrypted_entry,
    "unsupported_method": unsupported_method,
    "path_too_long": path_too_long,
    "path_too_deep": path_too_deep,
}


def hostile(name: str) -> HostileBundle:
    """Build the hostile bundle called ``name`` (see :data:`HOSTILE`)."""
    return HOSTILE[name]()
