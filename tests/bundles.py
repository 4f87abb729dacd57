"""Build real Hot bundles (and hostile ones) in Python for tests.

The writing itself is the service's own (``builds.bundle.writer``: zstd entries,
``manifest.hot`` first, BLAKE3 hashes, as ``hot build`` lays them out). This module adds what
tests need on top: a default program, handlers and schedules declared by hand (tests control
the manifest exactly), an independent bundle-hash computation to cross-check the library, and
hostile bundles built with the same unchecked zip writer.

Typical use::

    data, bundle_hash = make_bundle()                      # zstd, default program
    data, bundle_hash = make_bundle(compression="deflate")
    bad = hostile("symlink")                                # HostileBundle(data, hash, code)
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import blake3
import zstandard

from builds.bundle.manifest import EventHandler, Schedule
from builds.bundle.writer import (  # noqa: F401  (re-exported for the tests)
    DEFLATED,
    ENGINE_VERSION,
    METHODS,
    STORED,
    SYSTEM_HANDLERS,
    ZSTD,
    RawEntry,
    bundle_entries,
    compress,
    source_order,
    to_hot,
    write_zip,
)
from builds.bundle.writer import manifest_data as _writer_manifest_data

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


def blake3_hex(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compute_bundle_hash(
    sources: Iterable[bytes], resources: Iterable[tuple[str, bytes]] = ()
) -> str:
    """The CLI's bundle hash, written independently of builds.bundle.hashing (a cross-check)."""
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


def _position(fn: str, file: str, line: int | None, files: Mapping[str, bytes]) -> dict:
    """Where ``fn`` is defined: its line (looked up when not given), column 1 and the byte
    offset of that line."""
    text = files.get(file, b"").decode("utf-8", "replace")
    if line is None:
        try:
            line = line_of(text, fn.rpartition("/")[2])
        except ValueError:
            line = 1
    lines = text.splitlines(keepends=True)
    position = sum(len(x.encode()) for x in lines[: line - 1])
    ns, _, var = fn.rpartition("/")
    return {
        "fn": fn,
        "ns": ns,
        "var": var,
        "file": file,
        "line": line,
        "column": 1,
        "position": position,
    }


def webhook_entries(
    hooks: Iterable[dict[str, Any]], source: str, file: str = DEFAULT_SOURCE_PATH
) -> dict[str, list[dict[str, Any]]]:
    """The CLI's ``webhooks`` manifest section for ``{"fn", "service", "path", "method"?,
    "auth"?}`` items (the meta is ``{webhook: {...}}`` as written in the source)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for hook in hooks:
        meta = {k: v for k, v in hook.items() if k != "fn"}
        position = _position(hook["fn"], file, None, {file: source.encode()})
        ns, var = position["ns"], position["var"]
        grouped.setdefault(hook["service"], []).append(
            {
                "service": hook["service"],
                "path": hook["path"],
                "method": hook.get("method", "POST"),
                "name": f"{ns.removeprefix('::').replace('::', '_')}_{var}".replace("-", "_"),
                "fn": hook["fn"],
                "auth_mode": hook.get("auth", "none"),
                "meta": {"webhook": meta},
                **{k: position[k] for k in ("file", "line", "column", "position")},
            }
        )
    return grouped


def mcp_tool_entries(
    tools: Iterable[dict[str, Any]], source: str, file: str = DEFAULT_SOURCE_PATH
) -> dict[str, list[dict[str, Any]]]:
    """The ``mcp_tools`` section for ``{"fn", "service", ...meta}`` items, without schemas
    (the service derives them from the signatures)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for tool in tools:
        meta = {k: v for k, v in tool.items() if k != "fn"}
        position = _position(tool["fn"], file, None, {file: source.encode()})
        ns, var = position["ns"], position["var"]
        name = meta.get("name") or f"{ns.removeprefix('::').replace('::', '_')}_{var}"
        entry = {
            "service": tool["service"],
            "name": name.replace("-", "_"),
            "auth_mode": tool.get("auth", "required"),
            "fn": tool["fn"],
            "meta": {"mcp": meta},
            **{k: position[k] for k in ("file", "line", "column", "position")},
        }
        if "description" in tool:
            entry["description"] = tool["description"]
        grouped.setdefault(tool["service"], []).append(entry)
    return grouped


def _handlers(handlers: Iterable[Handler], files: Mapping[str, bytes]) -> list[EventHandler]:
    return [
        EventHandler(
            event_type=h.event_type,
            once=h.once,
            meta=dict(h.meta) if h.meta is not None else {"on-event": h.event_type},
            **_position(h.fn, h.file, h.line, files),
        )
        for h in handlers
    ]


def _schedules(schedules: Iterable[Sched], files: Mapping[str, bytes]) -> list[Schedule]:
    return [
        Schedule(
            cron=s.cron,
            meta=dict(s.meta) if s.meta is not None else {"schedule": s.cron},
            **_position(s.fn, s.file, s.line, files),
        )
        for s in schedules
    ]


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
    webhooks: Mapping[str, list[dict[str, Any]]] | None = None,
    mcp_tools: Mapping[str, list[dict[str, Any]]] | None = None,
    extra_sections: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest.hot data the CLI would write for these files (fixed id and date)."""
    return _writer_manifest_data(
        project=project,
        sources=files,
        resources=resources,
        event_handlers=_handlers(handlers, files),
        schedules=_schedules(schedules, files),
        ctx_requirements=[
            {"key": item, "declared-by": "::app::main"} if isinstance(item, str) else item
            for item in ctx_requirements
        ],
        bundle_id=DEFAULT_BUNDLE_ID,
        created_at=DEFAULT_CREATED_AT,
        engine_version=engine_version,
        include_system_handlers=include_system_handlers,
        bundle_hash=bundle_hash,
        file_hash_overrides=file_hash_overrides,
        webhooks=webhooks,
        mcp_tools=mcp_tools,
        extra_sections=extra_sections,
    )


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
    webhooks: Mapping[str, list[dict[str, Any]]] | None = None,
    mcp_tools: Mapping[str, list[dict[str, Any]]] | None = None,
    extra_sections: Mapping[str, Any] | None = None,
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
    order = source_order(body)
    bundle_hash = compute_bundle_hash((body[p] for p in order), ((r, res[r]) for r in sorted(res)))
    manifest_bytes = None
    if include_manifest and manifest_text is None:
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
            webhooks=webhooks,
            mcp_tools=mcp_tools,
            extra_sections=extra_sections,
        )
        manifest_bytes = to_hot(data).encode("utf-8")
    elif include_manifest:
        manifest_bytes = (
            manifest_text.encode("utf-8") if isinstance(manifest_text, str) else manifest_text
        )
    entries = bundle_entries(
        manifest=manifest_bytes,
        sources=body,
        resources=res,
        method=method,
        include_docs=include_docs,
    )
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
