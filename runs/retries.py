"""Hot's retry policy: ``meta {retry: N}`` or ``meta {retry: {attempts, delay, backoff,
max_delay, jitter}}`` on an event handler or a scheduled function.

Delays are in milliseconds, as in Hot. ``attempts`` is how many retries follow the first
failure; ``backoff`` is ``fixed`` (``delay``), ``linear`` (``delay * (n + 1)``) or
``exponential`` (``delay * 2**n``) for the n-th retry counted from 0, capped at ``max_delay``;
``jitter`` spreads each delay by about ±10 %. Values are clamped to the service's limits
(``HOT_RETRY_MAX_ATTEMPTS``, ``HOT_RETRY_MAX_DELAY_MS``); delays are at least 100 ms.
"""

import random
from datetime import timedelta

from django.conf import settings

MIN_DELAY_MS = 100
DEFAULT_MAX_DELAY_MS = 300_000
BACKOFFS = ("fixed", "linear", "exponential")


def _whole(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _clamp_delay(value: int) -> int:
    return max(MIN_DELAY_MS, min(value, settings.HOT_RETRY_MAX_DELAY_MS))


def retry_policy(meta) -> dict | None:
    """The normalized policy of a handler's meta, or None when it does not retry."""
    if not isinstance(meta, dict) or "retry" not in meta:
        return None
    raw = meta["retry"]
    spec = {"attempts": raw} if not isinstance(raw, dict) else raw
    attempts = _whole(spec.get("attempts"))
    if attempts is None or attempts <= 0:
        return None
    delay = _whole(spec.get("delay"))
    max_delay = _whole(spec.get("max_delay"))
    backoff = str(spec.get("backoff", "fixed")).lower()
    return {
        "attempts": min(attempts, settings.HOT_RETRY_MAX_ATTEMPTS),
        "delay": _clamp_delay(settings.HOT_RETRY_DEFAULT_DELAY_MS if delay is None else delay),
        "backoff": backoff if backoff in BACKOFFS else "fixed",
        "max_delay": _clamp_delay(DEFAULT_MAX_DELAY_MS if max_delay is None else max_delay),
        "jitter": spec.get("jitter") is True,
    }


def retry_delay(policy: dict, retry_index: int) -> timedelta:
    """How long to wait before retry number ``retry_index`` (0 for the first retry)."""
    base = policy["delay"]
    if policy["backoff"] == "exponential":
        delay = base * 2 ** min(retry_index, 32)
    elif policy["backoff"] == "linear":
        delay = base * (retry_index + 1)
    else:
        delay = base
    delay = min(delay, policy["max_delay"])
    if policy["jitter"]:
        spread = delay // 10
        delay += random.randint(-spread, spread)
    return timedelta(milliseconds=max(MIN_DELAY_MS, delay))


def retries_left(policy: dict | None, retry_attempt: int) -> bool:
    return bool(policy) and retry_attempt < policy["attempts"]
