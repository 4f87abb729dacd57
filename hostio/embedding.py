"""The default text embedding: deterministic feature hashing, offline, no model.

Word unigrams and bigrams and character trigrams of the lower-cased text are hashed
(BLAKE2b) into 384 signed buckets and the vector is L2-normalised, so cosine similarity
measures shared words and word pieces. It captures lexical, not semantic, similarity: no
synonyms, no paraphrase. It is what a store's `EmbeddingOptions.Default` uses; Hot code that
needs a real model passes its own `embed-fn` (for example one that calls an embedding API).
docs/decisions.md explains why no model ships by default.
"""

from __future__ import annotations

import hashlib
import math
import re

DIMENSIONS = 384
_WORD = re.compile(r"\w+", re.UNICODE)


def _features(text):
    words = _WORD.findall(text.lower())
    for w in words:
        yield f"w:{w}", 1.0
        padded = f" {w} "
        for i in range(len(padded) - 2):
            yield f"c:{padded[i : i + 3]}", 0.3
    for a, b in zip(words, words[1:], strict=False):
        yield f"b:{a} {b}", 0.5


def embed(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    vector = [0.0] * dimensions
    for feature, weight in _features(text):
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % dimensions
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[bucket] += sign * weight
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


def cosine(a, b) -> float:
    if not a or not b or len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
