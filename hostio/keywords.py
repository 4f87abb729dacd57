"""Keyword search helpers shared by the store backends: query tokens, and a score for
backends without a full-text engine."""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in _TOKEN.findall(text or "")))


def score(query_tokens, text) -> float:
    """The share of query words found in text, damped by the text's length; 0 if none."""
    words = _TOKEN.findall((text or "").lower())
    if not words or not query_tokens:
        return 0.0
    present = set(words)
    hits = sum(1 for t in query_tokens if t in present)
    if not hits:
        return 0.0
    return hits / len(query_tokens) / (1.0 + math.log1p(len(words)) / 10)
