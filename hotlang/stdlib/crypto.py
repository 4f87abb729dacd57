"""Key derivation and RSA signatures: `::hot::crypto`, on the `cryptography` package."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ..values import Err, as_bytes
from .registry import lib

CR = "::hot::crypto"
MAX_ITERATIONS = 10_000_000  # far above any real setting; bounds the work of one call
MAX_LENGTH = 1024


@lib(CR, "pbkdf2-hmac-sha256")
def pbkdf2_hmac_sha256(password, salt, iterations, length=32):
    if iterations.__class__ is not int or not 1 <= iterations <= MAX_ITERATIONS:
        return Err(f"pbkdf2-hmac-sha256: iterations must be from 1 to {MAX_ITERATIONS}")
    if length.__class__ is not int or not 1 <= length <= MAX_LENGTH:
        return Err(f"pbkdf2-hmac-sha256: length must be from 1 to {MAX_LENGTH}")
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=length,
        salt=as_bytes(salt, "pbkdf2-hmac-sha256"),
        iterations=iterations,
    )
    return kdf.derive(as_bytes(password, "pbkdf2-hmac-sha256"))


@lib(CR, "rsa-sha256-sign")
def rsa_sha256_sign(private_key_pem, message):
    try:
        key = serialization.load_pem_private_key(as_bytes(private_key_pem, "sign"), None)
    except (ValueError, TypeError) as e:
        return Err(f"rsa-sha256-sign: invalid private key: {e}")
    if not isinstance(key, rsa.RSAPrivateKey):
        return Err("rsa-sha256-sign: the key is not an RSA private key")
    return key.sign(as_bytes(message, "rsa-sha256-sign"), padding.PKCS1v15(), hashes.SHA256())


@lib(CR, "rsa-sha256-verify")
def rsa_sha256_verify(n, e, message, signature):
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(as_bytes(e, "rsa-sha256-verify"), "big"),
        int.from_bytes(as_bytes(n, "rsa-sha256-verify"), "big"),
    )
    try:
        numbers.public_key().verify(
            as_bytes(signature, "rsa-sha256-verify"),
            as_bytes(message, "rsa-sha256-verify"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
