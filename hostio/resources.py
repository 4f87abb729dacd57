"""A bundle's resources: the files under `resources/`, by path relative to it, read-only.

Each entry has a `hash` (BLAKE3 of its content, as Hot reports it, or SHA-256 where the
blake3 package is missing) and a `size`. `list-matching` uses gitignore-style globs
(pathspec): `*` and `?` within a path segment, `**` across segments, character classes, and a
pattern without a `/` matching at any depth.
"""

from __future__ import annotations

import hashlib
import os

import pathspec

try:
    from blake3 import blake3 as _blake3
except ImportError:  # pragma: no cover - blake3 is in requirements.txt
    _blake3 = None


def content_hash(data: bytes) -> str:
    return _blake3(data).hexdigest() if _blake3 is not None else hashlib.sha256(data).hexdigest()


class ResourceNotFound(Exception):
    pass


class Resources:
    """Resources from a mapping of relative path -> bytes (a bundle) or from directories."""

    def __init__(self, files: dict[str, bytes] | None = None):
        self.files = dict(files or {})

    @classmethod
    def from_dirs(cls, roots):
        files = {}
        for root in roots:  # roots in order, then alphabetical within each; first root wins
            found = {}
            for dirpath, dirnames, names in os.walk(root):
                dirnames.sort()
                for name in names:
                    full = os.path.join(dirpath, name)
                    rel = os.path.relpath(full, root).replace(os.sep, "/")
                    with open(full, "rb") as f:
                        found[rel] = f.read()
            for rel in sorted(found):
                files.setdefault(rel, found[rel])
        return cls(files)

    def read(self, path: str) -> bytes:
        try:
            return self.files[path]
        except KeyError:
            raise ResourceNotFound(f"resource not found: '{path}'") from None

    def exists(self, path: str) -> bool:
        return path in self.files

    def entry(self, path):
        data = self.files[path]
        return {"path": path, "hash": content_hash(data), "size": len(data)}

    def list(self):
        return [self.entry(p) for p in self.files]

    def list_matching(self, glob: str):
        spec = pathspec.PathSpec.from_lines("gitignore", [glob])
        return [self.entry(p) for p in self.files if spec.match_file(p)]
