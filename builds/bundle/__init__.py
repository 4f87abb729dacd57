"""Inspection of Hot build bundles (zip files made by ``hot build`` / ``hot deploy``).

Pure Python on purpose: no Django imports, so workers and unit tests can use it
directly. The single entry point is :func:`inspect_bundle`; the submodules hold
the pieces (``reader`` for the zip, ``manifest`` for ``manifest.hot``, ``hashing``
for SHA-256/BLAKE3, ``cron`` for schedules, ``scan`` for manifest-less bundles).
"""

from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass, field
from typing import BinaryIO

from .cron import (
    CronError,
    NormalizedSchedule,
    latest_fire,
    next_fire,
    normalize,
    validate_schedule,
    zone,
)
from .errors import BundleError
from .hashing import (
    blake3_hex,
    bundle_hash,
    check_manifest_hashes,
    default_bundle_order,
    new_blake3,
    sha256_file,
)
from .manifest import (
    MANIFEST_NAME,
    ContextRequirement,
    EventHandler,
    Manifest,
    McpTool,
    Schedule,
    Webhook,
    parse_hot_data,
    parse_manifest,
)
from .reader import BundleLimits, BundleReader, ZipEntry
from .scan import scan_sources

RESOURCES_PREFIX = "resources/"

__all__ = [
    "BundleError",
    "BundleInfo",
    "BundleLimits",
    "BundleReader",
    "ContextRequirement",
    "CronError",
    "EventHandler",
    "Manifest",
    "McpTool",
    "NormalizedSchedule",
    "Schedule",
    "Webhook",
    "ZipEntry",
    "blake3_hex",
    "bundle_hash",
    "inspect_bundle",
    "latest_fire",
    "next_fire",
    "normalize",
    "parse_hot_data",
    "parse_manifest",
    "sha256_file",
    "zone",
]

# How many per-file hash problems to quote in an error message.
_QUOTED_PROBLEMS = 3


@dataclass(frozen=True)
class BundleInfo:
    """Everything the control plane needs to know about one uploaded bundle."""

    sha256: str  # of the zip bytes, lowercase hex
    size: int  # zip size in bytes
    bundle_hash: str | None  # BLAKE3 bundle hash recomputed from the files; None if not computable
    files: dict[str, str]  # every file entry: bundle path -> BLAKE3 hex of its contents
    event_handlers: list[EventHandler]
    schedules: list[Schedule]  # each with .normalized set
    context_requirements: list[str]  # context variable names the manifest says are required
    engine_version: str | None
    has_manifest: bool
    sources: dict[str, str]  # .hot files under hot/ -> text (bounded by max_source_bytes)
    warnings: list[str]
    # files under resources/ by path below it -> contents (bounded by max_resource_bytes)
    resources: dict[str, bytes] = field(default_factory=dict)
    manifest: Manifest | None = None
    # Per-file disagreements between manifest.hot and the bundle's files.
    hash_problems: list[str] = field(default_factory=list)
    # Which value the client's hash matched: "sha256", "bundle_hash", or None if none was given.
    hash_matched: str | None = None
    uncompressed_size: int = 0
    entry_count: int = 0

    @property
    def manifest_consistent(self) -> bool:
        return not self.hash_problems


def _open(source: str | os.PathLike[str] | BinaryIO | bytes) -> tuple[BinaryIO, bool]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, (str, os.PathLike)):
        return open(source, "rb"), True  # closed by inspect_bundle
    return source, False


def inspect_bundle(
    path_or_file: str | os.PathLike[str] | BinaryIO | bytes,
    limits: BundleLimits | None = None,
    client_hash: str | None = None,
    *,
    known_sha256: tuple[str, int] | None = None,
) -> BundleInfo:
    """Validate a bundle and describe it, reading each entry once in bounded chunks.

    Raises BundleError for anything Hot would refuse to extract, an unreadable or
    malformed manifest, an invalid schedule (naming the function), or a
    ``client_hash`` that matches neither the zip's SHA-256 nor the recomputed
    BLAKE3 bundle hash of a bundle whose manifest agrees with its files.
    A file object must be seekable; it is left positioned at its start.
    ``known_sha256`` is ``(hex digest, size)`` when the caller already hashed the bytes while
    receiving them, which saves a full read.
    """
    limits = limits or BundleLimits()
    fh, owned = _open(path_or_file)
    try:
        sha256, size = known_sha256 or sha256_file(fh)
        with BundleReader(fh, limits) as reader:
            info = _inspect(reader, limits, sha256, size)
        fh.seek(0)
    finally:
        if owned:
            fh.close()
    return _check_client_hash(info, client_hash)


@dataclasses.dataclass
class _EntryScan:
    """What one pass over the entries keeps: a BLAKE3 digest and size per file, the manifest,
    and source text within its budget."""

    files: dict[str, str] = dataclasses.field(default_factory=dict)
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    manifest_bytes: bytes | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    source_bytes: int = 0
    sources_truncated: bool = False
    resources: dict[str, bytes] = dataclasses.field(default_factory=dict)
    resource_bytes: int = 0
    resources_truncated: bool = False


def _manifest_too_large(detail: str) -> BundleError:
    return BundleError("manifest_too_large", f"{MANIFEST_NAME} is {detail}", entry=MANIFEST_NAME)


def _read_entry(reader: BundleReader, entry, limits: BundleLimits, scan: _EntryScan) -> None:
    is_manifest = entry.path == MANIFEST_NAME
    keep_source = entry.path.startswith("hot/") and entry.path.endswith(".hot")
    keep_resource = entry.path.startswith(RESOURCES_PREFIX)
    if is_manifest and entry.file_size > limits.max_manifest_bytes:
        raise _manifest_too_large(
            f"{entry.file_size} bytes; the limit is {limits.max_manifest_bytes} bytes"
        )
    # Only the manifest, source text and resources are kept, source text and resources each
    # within its budget: every other entry is hashed chunk by chunk and dropped.
    budget = (
        limits.max_resource_bytes - scan.resource_bytes
        if keep_resource
        else limits.max_source_bytes - scan.source_bytes
    )
    # an entry declared larger than what is left of its budget is not even buffered
    keep = is_manifest or ((keep_source or keep_resource) and entry.file_size <= budget)
    hasher = new_blake3()
    parts: list[bytes] = []
    length = 0
    for chunk in reader.iter_chunks(entry):
        hasher.update(chunk)
        length += len(chunk)
        if is_manifest and length > limits.max_manifest_bytes:
            raise _manifest_too_large(f"larger than {limits.max_manifest_bytes} bytes")
        if (keep_source or keep_resource) and length > budget:
            keep, parts = False, []
        if keep:
            parts.append(chunk)
    scan.files[entry.path] = hasher.hexdigest()
    scan.sizes[entry.path] = length
    if is_manifest:
        scan.manifest_bytes = b"".join(parts)
    elif keep_resource or keep_source:
        _keep_text_or_resource(scan, entry.path, parts if keep else None, length)


def _keep_text_or_resource(scan: _EntryScan, path: str, parts: list[bytes] | None, length):
    """Keep a source's text or a resource's bytes (parts is None: over its budget)."""
    resource = path.startswith(RESOURCES_PREFIX)
    if parts is None and resource:
        scan.resources_truncated = True
    elif parts is None:
        scan.sources_truncated = True
    elif resource:
        scan.resource_bytes += length
        scan.resources[path.removeprefix(RESOURCES_PREFIX)] = b"".join(parts)
    else:
        scan.source_bytes += length
        scan.sources[path] = _source_text(path, b"".join(parts), scan.warnings)


def _source_text(path: str, raw: bytes, warnings: list[str]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"{path} is not valid UTF-8")
        return raw.decode("utf-8", errors="replace")


def _scan_entries(reader: BundleReader, limits: BundleLimits) -> _EntryScan:
    scan = _EntryScan()
    for entry in reader.entries:
        if not entry.is_dir:
            _read_entry(reader, entry, limits, scan)
    if scan.sources_truncated:
        scan.warnings.append(
            f"Source text beyond {limits.max_source_bytes} bytes was not kept for inspection"
        )
    if scan.resources_truncated:
        scan.warnings.append(
            f"Resources beyond {limits.max_resource_bytes} bytes in total were not kept: "
            "::hot::resource cannot read them"
        )
    return scan


@dataclasses.dataclass
class _Declarations:
    """What the bundle declares, from its manifest or (without one) from its sources."""

    bundle_hash: str | None
    event_handlers: list
    schedules: list
    context_requirements: list[str]
    engine_version: str | None
    manifest: Manifest | None = None
    hash_problems: list[str] = dataclasses.field(default_factory=list)


def _declared_by_manifest(scan: _EntryScan, limits: BundleLimits) -> _Declarations:
    manifest = parse_manifest(
        scan.manifest_bytes,
        max_bytes=limits.max_manifest_bytes,
        max_depth=limits.max_manifest_depth,
        max_values=limits.max_manifest_values,
    )
    check = check_manifest_hashes(manifest.files, manifest.resources, scan.files, scan.sizes)
    recomputed = check.bundle_hash
    scan.warnings.extend(check.problems)
    scan.warnings.extend(manifest.unserved)
    if manifest.bundle_hash and recomputed and manifest.bundle_hash.lower() != recomputed:
        scan.warnings.append(
            f"{MANIFEST_NAME} records bundle_hash {manifest.bundle_hash} but the files hash "
            f"to {recomputed}"
        )
    return _Declarations(
        bundle_hash=recomputed,
        event_handlers=list(manifest.event_handlers),
        schedules=list(manifest.schedules),
        context_requirements=manifest.context_keys,
        engine_version=manifest.engine_version,
        manifest=manifest,
        hash_problems=list(check.problems),
    )


def _declared_by_sources(scan: _EntryScan) -> _Declarations:
    scan.warnings.append(
        f"No {MANIFEST_NAME}: handlers and schedules were found by scanning the sources "
        "(the Hot server itself registers nothing without a manifest)"
    )
    source_order, resource_order = default_bundle_order(scan.files)
    recomputed = bundle_hash(
        (scan.files[path] for path in source_order),
        ((path.removeprefix(RESOURCES_PREFIX), scan.files[path]) for path in resource_order),
    )
    scanned = scan_sources(scan.sources)
    scan.warnings.extend(scanned.warnings)
    return _Declarations(
        bundle_hash=recomputed,
        event_handlers=scanned.event_handlers,
        schedules=scanned.schedules,
        context_requirements=[],
        engine_version=None,
    )


def _inspect(reader: BundleReader, limits: BundleLimits, sha256: str, size: int) -> BundleInfo:
    scan = _scan_entries(reader, limits)
    if scan.manifest_bytes is not None:
        declared = _declared_by_manifest(scan, limits)
    else:
        declared = _declared_by_sources(scan)
    schedules = [
        dataclasses.replace(s, normalized=validate_schedule(s.cron, s.fn, s.meta).cron)
        for s in declared.schedules
    ]
    return BundleInfo(
        sha256=sha256,
        size=size,
        bundle_hash=declared.bundle_hash,
        files=scan.files,
        event_handlers=declared.event_handlers,
        schedules=schedules,
        context_requirements=declared.context_requirements,
        engine_version=declared.engine_version,
        has_manifest=declared.manifest is not None,
        sources=scan.sources,
        warnings=scan.warnings,
        resources=scan.resources,
        manifest=declared.manifest,
        hash_problems=declared.hash_problems,
        uncompressed_size=reader.total_read,
        entry_count=len(reader.entries),
    )


def _check_client_hash(info: BundleInfo, client_hash: str | None) -> BundleInfo:
    if client_hash is None:
        return info
    given = client_hash.strip().lower()
    if given and given == info.sha256:
        return dataclasses.replace(info, hash_matched="sha256")
    if given and given == info.bundle_hash:
        if info.manifest_consistent:
            return dataclasses.replace(info, hash_matched="bundle_hash")
        raise BundleError(
            "hash_mismatch",
            f"The hash matches the bundle's BLAKE3 bundle hash, but {MANIFEST_NAME} does not "
            f"match the files: {_quote(info.hash_problems)}",
        )
    expected = f"the SHA-256 of the uploaded zip ({info.sha256})"
    if info.bundle_hash:
        expected += f" or the BLAKE3 bundle hash ({info.bundle_hash})"
    note = ""
    if info.hash_problems:
        # Typically a file was changed after the CLI wrote the manifest.
        note = f"; note that {MANIFEST_NAME} does not match the files: {_quote(info.hash_problems)}"
    raise BundleError(
        "hash_mismatch",
        f"The hash {client_hash.strip()!r} does not match the bundle; expected {expected}{note}",
    )


def _quote(problems: list[str]) -> str:
    quoted = "; ".join(problems[:_QUOTED_PROBLEMS])
    more = len(problems) - _QUOTED_PROBLEMS
    return quoted + (f"; and {more} more" if more > 0 else "")
