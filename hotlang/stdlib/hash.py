"""Digests: `::hot::hash`."""

from __future__ import annotations

import hashlib

from ..errors import Unsupported
from ..values import as_bytes
from .registry import lib


def _hash(name, algo):
    def fn(v):
        return hashlib.new(algo, as_bytes(v, name)).hexdigest()

    lib("::hot::hash", name, core=name in ("sha256", "blake3"))(fn)


for _n, _a in (
    ("sha256", "sha256"),
    ("sha1", "sha1"),
    ("sha512", "sha512"),
    ("md5", "md5"),
    ("sha384", "sha384"),
):
    _hash(_n, _a)


@lib("::hot::hash", "blake3", core=True)
def blake3_(v):
    try:
        import blake3  # optional: present in the project venv
    except ImportError:
        raise Unsupported("::hot::hash/blake3 needs the blake3 package") from None
    return blake3.blake3(as_bytes(v, "blake3")).hexdigest()
