"""JSON, hex, base64, hashes, HMAC, UUID, random values and basic time."""

from __future__ import annotations

import base64 as _b64
import binascii
import hashlib
import hmac as _hmac
import json
import os
import re
import secrets
import time as _time
import uuid as _uuid
from datetime import UTC, datetime
from decimal import Decimal

from .. import jsonmap
from ..errors import HotRuntimeError, LimitExceeded
from ..values import Err, hot_str, type_name
from . import lib


def _bytes(v, fn):
    if v.__class__ is bytes:
        return v
    if v.__class__ is str:
        return v.encode()
    if v.__class__ is list:
        return bytes(v)
    raise HotRuntimeError(f"{fn}: expected Str or Bytes, got {type_name(v)}")


# -- json --------------------------------------------------------------------------------------
@lib("::hot::json", "to-json", core=True)
def to_json(v, pretty=False):
    return jsonmap.dumps(v, pretty=pretty is True)


@lib("::hot::json", "from-json", core=True)
def from_json(s):
    try:
        return jsonmap.loads(s if s.__class__ is str else _bytes(s, "from-json").decode())
    except (ValueError, json.JSONDecodeError) as e:
        return Err({"message": f"invalid JSON: {e}"})


# -- hex / base64 ------------------------------------------------------------------------------
@lib("::hot::hex", "encode")
def hex_encode(v):
    return _bytes(v, "encode").hex()


@lib("::hot::hex", "decode")
def hex_decode(s):
    try:
        return bytes.fromhex(s)
    except ValueError:
        return Err({"message": "invalid hex string"})


@lib("::hot::hex", "is-valid")
def hex_is_valid(s):
    return s.__class__ is str and len(s) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]*", s) is not None


@lib("::hot::base64", "encode")
def b64_encode(v):
    return _b64.b64encode(_bytes(v, "encode")).decode()


@lib("::hot::base64", "decode")
def b64_decode(s):
    try:
        return _b64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return Err({"message": "invalid base64 string"})


@lib("::hot::base64", "encode-url")
def b64_encode_url(v):
    return _b64.urlsafe_b64encode(_bytes(v, "encode-url")).decode().rstrip("=")


@lib("::hot::base64", "decode-url")
def b64_decode_url(s):
    try:
        return _b64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError):
        return Err({"message": "invalid base64url string"})


@lib("::hot::base64", "is-valid")
def b64_is_valid(s):
    if s.__class__ is not str or len(s) % 4:
        return False
    try:
        _b64.b64decode(s, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


# -- hashes ------------------------------------------------------------------------------------
def _hash(name, algo):
    def fn(v):
        return hashlib.new(algo, _bytes(v, name)).hexdigest()

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
        from ..errors import Unsupported

        raise Unsupported("::hot::hash/blake3 needs the blake3 package") from None
    return blake3.blake3(_bytes(v, "blake3")).hexdigest()


_HMAC_ALGOS = {"sha256": "sha256", "sha1": "sha1", "sha512": "sha512", "sha384": "sha384"}


def _hmac_digest(key, data, algo="sha256"):
    a = _HMAC_ALGOS.get(hot_str(algo).lower())
    if a is None:
        raise HotRuntimeError(f"hmac: unsupported algorithm {algo}")
    return _hmac.new(_bytes(key, "hmac"), _bytes(data, "hmac"), a).digest()


@lib("::hot::hmac", "hmac-sha256", core=True)
def hmac_sha256(key, data):
    return _hmac_digest(key, data).hex()


@lib("::hot::hmac", "hmac-sha256-bytes", core=True)
def hmac_sha256_bytes(key, data):
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


# -- uuid / random -----------------------------------------------------------------------------
def _uuid7():
    ms = int(_time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(_uuid.UUID(int=value))


@lib("::hot::uuid", "Uuid", core=True)
def Uuid(version=4):
    if version.__class__ is str:
        try:
            return str(_uuid.UUID(version))
        except ValueError:
            return Err({"message": f"invalid UUID: {version}"})
    if version == 7:
        return _uuid7()
    return str(_uuid.uuid4())


@lib("::hot::uuid", "is-uuid", core=True)
def is_uuid(v):
    if v.__class__ is not str:
        return False
    return (
        re.fullmatch(
            r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{12}",
            v,
        )
        is not None
    )


@lib("::hot::uuid", "v4")
def uuid_v4():
    return str(_uuid.uuid4())


@lib("::hot::uuid", "v7")
def uuid_v7():
    return _uuid7()


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@lib("::hot::random", "random-string", core=True)
def random_string(n=16, charset=None):
    if n > 1_000_000:
        raise LimitExceeded("string size limit exceeded")
    chars = charset if charset.__class__ is str and charset else _ALNUM
    return "".join(secrets.choice(chars) for _ in range(max(n, 0)))


@lib("::hot::random", "random-bytes", core=True)
def random_bytes(n=16, fmt=None):
    if n > 1_000_000:
        raise LimitExceeded("bytes size limit exceeded")
    raw = os.urandom(max(n, 0))
    if fmt == "hex":
        return raw.hex()
    if fmt == "base64":
        return _b64.b64encode(raw).decode()
    return raw


@lib("::hot::random", "secure-compare", core=True)
def secure_compare(a, b):
    return _hmac.compare_digest(_bytes(a, "secure-compare"), _bytes(b, "secure-compare"))


# -- basic time --------------------------------------------------------------------------------
T = "::hot::time"


@lib(T, "now")
def now():
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _epoch(v, scale):
    if v is None:
        return int(_time.time() * scale)
    if v.__class__ is str:
        ms = parse_iso(v)
        return ms if ms.__class__ is not int else ms * scale // 1000
    raise HotRuntimeError("expected an ISO-8601 time string (Instant values are not supported)")


@lib(T, "epoch-millis")
def epoch_millis(v=None):
    return _epoch(v, 1000)


@lib(T, "epoch-seconds")
def epoch_seconds(v=None):
    return _epoch(v, 1)


@lib(T, "format-iso")
def format_iso(ms):
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@lib(T, "parse-iso")
def parse_iso(s):
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return Err({"message": f"invalid ISO 8601 time: {s}"})
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


_ = Decimal
