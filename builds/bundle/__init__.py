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
    Schedule,
    parse_hot_data,
    parse_manifest,
)
from .reader import BundleLimits, BundleReader, ZipEntry
from .scan import scan_sources

__all__ = [
    "BundleError",
    "BundleInfo",
    "BundleLimits",
    "BundleReader",
    "ContextRequirement",
    "CronError",
    "EventHandler",
    "Manifest",
    "NormalizedSchedule",
    "Schedule",
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


def _inspect(reader: BundleReader, limits: BundleLimits, sha256: str, size: int) -> BundleInfo:
    warnings: list[str] = []
    files: dict[str, str] = {}
    sizes: dict[str, int] = {}
    sources: dict[str, str] = {}
    source_bytes = 0
    sources_truncated = False
    manifest_bytes: bytes | None = None

    for entry in reader.entries:
        if entry.is_dir:
            continue
        is_manifest = entry.path == MANIFEST_NAME
        keep_source = entry.path.startswith("hot/") and entry.path.endswith(".hot")
        if is_manifest and entry.file_size > limits.max_manifest_bytes:
            raise BundleError(
                "manifest_too_large",
                f"{MANIFEST_NAME} is {entry.file_size} bytes; "
                f"the limit is {limits.max_manifest_bytes} bytes",
                entry=MANIFEST_NAME,
            )
        # Only the manifest and source text are kept, and source text only within
        # its budget: every other entry is hashed chunk by chunk and dropped.
        budget = limits.max_source_bytes - source_bytes
        keep = is_manifest or keep_source
        hasher = new_blake3()
        parts: list[bytes] = []
        length = 0
        for chunk in reader.iter_chunks(entry):
            hasher.update(chunk)
            length += len(chunk)
            if is_manifest and length > limits.max_manifest_bytes:
                raise BundleError(
                    "manifest_too_large",
                    f"{MANIFEST_NAME} is larger than {limits.max_manifest_bytes} bytes",
                    entry=MANIFEST_NAME,
                )
            if keep_source and length > budget:
                keep, parts = False, []
            if keep:
                parts.append(chunk)
        files[entry.path] = hasher.hexdigest()
        sizes[entry.path] = length
        if is_manifest:
            manifest_bytes = b"".join(parts)
        elif keep_source:
            if not keep:
                sources_truncated = True
                continue
            source_bytes += length
            raw = b"".join(parts)
            try:
                sources[entry.path] = raw.decode("utf-8")
            except UnicodeDecodeError:
                warnings.append(f"{entry.path} is not valid UTF-8")
                sources[entry.path] = raw.decode("utf-8", errors="replace")
    if sources_truncated:
        warnings.append(
            f"Source text beyond {limits.max_source_bytes} bytes was not kept for inspection"
        )

    manifest: Manifest | None = None
    hash_problems: list[str] = []
    if manifest_bytes is not None:
        manifest = parse_manifest(
            manifest_bytes,
            max_bytes=limits.max_manifest_bytes,
            max_depth=limits.max_manifest_depth,
            max_values=limits.max_manifest_values,
        )
        check = check_manifest_hashes(manifest.files, manifest.resources, files, sizes)
        recomputed = check.bundle_hash
        hash_problems = list(check.problems)
        warnings.extend(hash_problems)
        if manifest.bundle_hash and recomputed and manifest.bundle_hash.lower() != recomputed:
            warnings.append(
                f"{MANIFEST_NAME} records bundle_hash {manifest.bundle_hash} but the files hash "
                f"to {recomputed}"
            )
        handlers = list(manifest.event_handlers)
        schedules = list(manifest.schedules)
        context = manifest.context_keys
        engine_version = manifest.engine_version
    else:
        warnings.append(
            f"No {MANIFEST_NAME}: handlers and schedules were found by scanning the sources "
            "(the Hot server itself registers nothing without a manifest)"
        )
        source_order, resource_order = default_bundle_order(files)
        recomputed = bundle_hash(
            (files[path] for path in source_order),
            ((path.removeprefix("resources/"), files[path]) for path in resource_order),
        )
        scanned = scan_sources(sources)
        warnings.extend(scanned.warnings)
        handlers, schedules = scanned.event_handlers, scanned.schedules
        context, engine_version = [], None

    schedules = [
        dataclasses.replace(s, normalized=validate_schedule(s.cron, s.fn).cron) for s in schedules
    ]
    return BundleInfo(
        sha256=sha256,
        size=size,
        bundle_hash=recomputed,
        files=files,
        event_handlers=handlers,
        schedules=schedules,
        context_requirements=context,
        engine_version=engine_version,
        has_manifest=manifest is not None,
        sources=sources,
        warnings=warnings,
        manifest=manifest,
        hash_problems=hash_problems,
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
