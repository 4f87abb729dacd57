"""Masking of secret values in captured variables, results and stream output."""

MASK = "<secret>"
# Very short values would mask ordinary text ("a", "1"); they are still never logged.
MIN_SECRET_LENGTH = 4


def mask_secrets(value, secrets: list[str]):
    """``value`` (JSON-like) with every occurrence of a secret replaced by ``<secret>``."""
    secrets = [secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH]
    if not secrets:
        return value
    return _mask(value, secrets)


def _mask(value, secrets):
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [_mask(item, secrets) for item in value]
    if isinstance(value, dict):
        return {_mask(key, secrets): _mask(item, secrets) for key, item in value.items()}
    return value
