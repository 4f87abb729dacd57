"""Message authentication codes: `::hot::hmac`."""

from __future__ import annotations

import base64 as _b64
import binascii
import hmac as _hmac

from ..errors import HotRuntimeError
from ..values import as_bytes, hot_str
from .registry import lib

_HMAC_ALGOS = {"sha256": "sha256", "sha1": "sha1", "sha512": "sha512", "sha384": "sha384"}


def _hmac_digest(key, data, algo="sha256"):
    a = _HMAC_ALGOS.get(hot_str(algo).lower())
    if a is None:
        raise HotRuntimeError(f"hmac: unsupported algorithm {algo}")
    return _hmac.new(as_bytes(key, "hmac"), as_bytes(data, "hmac"), a).digest()


@lib("::hot::hmac", "hmac-sha256", core=True)
def hmac_sha256(key, data):
    return _hmac_digest(key, data).hex()


@lib("::hot::hmac", "hmac-sha256-bytes", core=True)
def hmac_sha256as_bytes(key, data):
    return _hmac_digest(key, data)


@lib("::hot::hmac", "hmac-sha1")
def hmac_sha1(key, data):
    return _hmac_digest(key, data, "sha1").hex()


@lib("::hot::hmac", "hmac-sha512")
def hmac_sha512(key, data):
    return _hmac_digest(key, data, "sha512").hex()


@lib("::hot::hmac", "hmac", core=False)
def hmac_any(key, data, algo="sha256"):
    return _hmac_digest(key, data, algo).hex()


@lib("::hot::hmac", "hmac-verify", core=True)
def hmac_verify(key, data, sig, algo="sha256"):
    return hmac_verify_hex(key, data, sig, algo)


@lib("::hot::hmac", "hmac-verify-hex")
def hmac_verify_hex(key, data, sig, algo="sha256"):
    if sig.__class__ is not str or not sig:
        return False
    try:
        given = bytes.fromhex(sig)
    except ValueError:
        return False
    return _hmac.compare_digest(given, _hmac_digest(key, data, algo))


@lib("::hot::hmac", "hmac-verify-base64")
def hmac_verify_base64(key, data, sig, algo="sha256"):
    if sig.__class__ is not str or not sig:
        return False
    try:
        given = _b64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        return False
    return _hmac.compare_digest(given, _hmac_digest(key, data, algo))
