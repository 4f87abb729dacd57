"""Hashes of uploaded bundles: SHA-256 of the zip and Hot's BLAKE3 bundle hash.

The ``hot`` CLI sends a BLAKE3 "bundle hash" with an upload, computed as
(``calculate_bundle_hash_with_resources`` in Hot's ``bundle.rs``)::

    h = blake3()
    for each source file, in the order the manifest lists them:
        h.update(blake3(file bytes).hexdigest() as ASCII)       # paths not hashed
    for each resource, in manifest order (sorted by rel path):
        h.update(rel_path as UTF-8); h.update(blake3(bytes).hexdigest() as ASCII)
    bundle_hash = h.hexdigest()

No separators, lowercase hex. ``manifest.hot`` and ``docs/`` are not covered.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import blake3

CHUNK_SIZE = 1024 * 1024

SOURCE_PREFIXES = ("hot/src/", "hot/pkg/")
RESOURCE_PREFIX = "resources/"


def sha256_file(source: str | os.PathLike[str] | BinaryIO) -> tuple[str, int]:
    """SHA-256 hex digest and byte size of a file, read in 1 MiB chunks.

    A file object is read from its start and left positioned at its start again.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            return sha256_file(fh)
    source.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    source.seek(0)
    return digest.hexdigest(), size


def blake3_hex(data: bytes) -> str:
    """BLAKE3 of ``data`` as 64 lowercase hex characters (Hot's per-file hash)."""
    return blake3.blake3(data).hexdigest()


def new_blake3() -> blake3.blake3:
    """A streaming BLAKE3 hasher, for callers that read a file in chunks."""
    return blake3.blake3()


def bundle_hash(source_hashes: Iterable[str], resources: Iterable[tuple[str, str]] = ()) -> str:
    """The CLI's bundle hash from per-file hex digests.

    ``source_hashes`` are the BLAKE3 hex digests of the ``hot/src`` and
    ``hot/pkg`` files in bundle order; ``resources`` are ``(rel_path, hex)``
    pairs where ``rel_path`` excludes the ``resources/`` prefix.
    """
    hasher = blake3.blake3()
    for digest in source_hashes:
        hasher.update(digest.encode("ascii"))
    for rel_path, digest in resources:
        hasher.update(rel_path.encode("utf-8"))
        hasher.update(digest.encode("ascii"))
    return hasher.hexdigest()


def is_source_path(path: str) -> bool:
    return path.startswith(SOURCE_PREFIXES)


def is_resource_path(path: str) -> bool:
    return path.startswith(RESOURCE_PREFIX)


def default_bundle_order(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """Best-effort hash order for a bundle without a manifest.

    The CLI hashes project sources (sorted) before dependency sources, then
    resources sorted by relative path. Without a manifest the dependency order is
    unknown, so dependencies are sorted by path as well.
    """
    paths = list(paths)
    src = sorted(p for p in paths if p.startswith("hot/src/"))
    pkg = sorted(p for p in paths if p.startswith("hot/pkg/"))
    resources = sorted(p for p in paths if is_resource_path(p))
    return src + pkg, resources


@dataclass(frozen=True)
class HashCheck:
    """Outcome of checking a manifest's file list against the bundle's files."""

    bundle_hash: str | None  # recomputed from the actual file contents; None if a file is missing
    problems: tuple[str, ...]  # human-readable, one per mismatching file


@dataclass(frozen=True)
class ListedFile:
    path: str
    hash: str
    size: int | None = None


def _checked_digest(
    item: ListedFile,
    bundle_path: str,
    actual: Mapping[str, str],
    sizes: Mapping[str, int],
    problems: list[str],
) -> str | None:
    """The file's actual digest (None when it is missing); a mismatch with what the manifest
    lists is added to ``problems``."""
    digest = actual.get(bundle_path)
    if digest is None:
        problems.append(f"{bundle_path}: listed in manifest.hot but missing from the bundle")
    elif digest != item.hash.lower():
        problems.append(
            f"{bundle_path}: manifest.hot says BLAKE3 {item.hash} but the file hashes to {digest}"
        )
    elif item.size is not None and bundle_path in sizes and sizes[bundle_path] != item.size:
        problems.append(
            f"{bundle_path}: manifest.hot says {item.size} bytes but the file has "
            f"{sizes[bundle_path]}"
        )
    return digest


def check_manifest_hashes(
    listed_sources: Iterable[ListedFile],
    listed_resources: Iterable[ListedFile],
    actual: Mapping[str, str],
    sizes: Mapping[str, int] | None = None,
) -> HashCheck:
    """Compare manifest-listed hashes with the files and recompute the bundle hash.

    ``actual`` maps bundle paths to BLAKE3 hex digests of their contents. The hash
    is recomputed from the *actual* digests in manifest order, so a manifest whose
    entries were edited to match a tampered ``bundle_hash`` still does not verify.
    Source or resource files present in the bundle but not listed are problems too:
    they would run (or be loadable) without being covered by the hash.
    """
    sizes = sizes or {}
    problems: list[str] = []
    source_digests: list[str | None] = []
    resource_pairs: list[tuple[str, str | None]] = []
    for item in listed_sources:
        source_digests.append(_checked_digest(item, item.path, actual, sizes, problems))
    for item in listed_resources:
        digest = _checked_digest(item, RESOURCE_PREFIX + item.path, actual, sizes, problems)
        resource_pairs.append((item.path, digest))
    listed_paths = {item.path for item in listed_sources}
    listed_paths |= {RESOURCE_PREFIX + item.path for item in listed_resources}
    for path in sorted(actual):
        if (is_source_path(path) or is_resource_path(path)) and path not in listed_paths:
            problems.append(f"{path}: in the bundle but not listed in manifest.hot")
    missing = None in source_digests or any(digest is None for _, digest in resource_pairs)
    recomputed = None if missing else bundle_hash(source_digests, resource_pairs)
    return HashCheck(bundle_hash=recomputed, problems=tuple(problems))
