"""AES-256-GCM for context variables.

Each environment gets its own 256-bit key, derived with HKDF-SHA256 from the master key
(``HOT_ENCRYPTION_KEY``), so a leaked derived key exposes one environment only. Every value
gets a fresh random 12-byte nonce; the associated data binds the ciphertext to its environment,
project and key name, so a blob copied to another row fails to decrypt. The stored blob is
``nonce || ciphertext || tag`` beside the id of the master key that sealed it, which is what
lets ``rotate_encryption_key`` find and re-encrypt values sealed by an older master key.
"""

import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12
KEY_ID_LENGTH = 16


class DecryptionError(Exception):
    """A value could not be decrypted (wrong key, tampered blob or moved row)."""


def _parse_master(hex_key: str) -> bytes:
    try:
        raw = bytes.fromhex(hex_key)
    except ValueError:
        raise ImproperlyConfigured("HOT_ENCRYPTION_KEY must be 64 hexadecimal characters") from None
    if len(raw) != 32:
        raise ImproperlyConfigured("HOT_ENCRYPTION_KEY must be 64 hexadecimal characters")
    return raw


def master_key_id(master: bytes) -> str:
    """A public fingerprint of a master key; it reveals nothing about the key."""
    return hashlib.sha256(b"hot-master-key-id:" + master).hexdigest()[:KEY_ID_LENGTH]


def keyring() -> tuple[str, dict[str, bytes]]:
    """(primary key id, {key id: master key}) from settings; the primary encrypts."""
    if not settings.HOT_ENCRYPTION_KEY:
        raise ImproperlyConfigured(
            "HOT_ENCRYPTION_KEY is not set: context variables cannot be encrypted"
        )
    return _keyring(settings.HOT_ENCRYPTION_KEY, tuple(settings.HOT_ENCRYPTION_OLD_KEYS))


@lru_cache(maxsize=8)
def _keyring(primary_hex: str, old_hex: tuple[str, ...]) -> tuple[str, dict[str, bytes]]:
    primary = _parse_master(primary_hex)
    ring = {master_key_id(primary): primary}
    for item in old_hex:
        old = _parse_master(item)
        ring.setdefault(master_key_id(old), old)
    return master_key_id(primary), ring


@lru_cache(maxsize=1024)
def _environment_cipher(master: bytes, environment_id: str) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"hot-context-v1-env-" + environment_id.encode(),
    ).derive(master)
    return AESGCM(derived)


def _aad(environment_id, project_id, name: str) -> bytes:
    return f"hot-context-v1|{environment_id}|{project_id}|{name}".encode()


def encrypt_value(*, environment_id, project_id, name: str, plaintext: str) -> tuple[bytes, str]:
    key_id, ring = keyring()
    cipher = _environment_cipher(ring[key_id], str(environment_id))
    nonce = os.urandom(NONCE_BYTES)
    sealed = cipher.encrypt(
        nonce, plaintext.encode("utf-8"), _aad(environment_id, project_id, name)
    )
    return nonce + sealed, key_id


def decrypt_value(*, environment_id, project_id, name: str, blob: bytes, key_id: str) -> str:
    _, ring = keyring()
    master = ring.get(key_id)
    if master is None:
        raise DecryptionError(f"master key {key_id} is not configured")
    blob = bytes(blob)
    nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    cipher = _environment_cipher(master, str(environment_id))
    try:
        plain = cipher.decrypt(nonce, sealed, _aad(environment_id, project_id, name))
    except InvalidTag:
        raise DecryptionError("ciphertext does not authenticate") from None
    return plain.decode("utf-8")
