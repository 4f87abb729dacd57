"""An in-memory store backend for hotlang's command line (`python -m hotlang test/run`): the
same operations as the platform's database store (`stores/`), gone when the process ends."""

from __future__ import annotations

import threading

from . import keywords
from .embedding import cosine


class MemoryStore:
    def __init__(self):
        self.maps = {}  # name -> {key: (value, text, vector)} in insertion order
        self.lock = threading.Lock()

    def _map(self, name):
        return self.maps.setdefault(name, {})

    def put(self, name, key, value, text=None, vector=None):
        with self.lock:
            self._map(name)[key] = (value, text, vector)

    def put_if_missing(self, name, key, value, text=None, vector=None):
        with self.lock:
            entries = self._map(name)
            if key in entries:
                return False
            entries[key] = (value, text, vector)
            return True

    def get(self, name, key):
        entry = self.maps.get(name, {}).get(key)
        return (True, entry[0]) if entry is not None else (False, None)

    def has(self, name, key):
        return key in self.maps.get(name, {})

    def delete(self, name, key):
        with self.lock:
            return self.maps.get(name, {}).pop(key, None) is not None

    def length(self, name):
        return len(self.maps.get(name, {}))

    def entries(self, name, offset=0, limit=None):
        items = list(self.maps.get(name, {}).items())
        end = None if limit is None else offset + limit
        return [(k, v[0]) for k, v in items[offset:end]]

    def clear(self, name):
        with self.lock:
            self.maps.get(name, {}).clear()
        return True

    def destroy(self, name):
        with self.lock:
            self.maps.pop(name, None)
        return True

    def keyword_search(self, name, query, limit):
        q = keywords.tokens(query)
        scored = [(k, v[0], keywords.score(q, v[1])) for k, v in self.maps.get(name, {}).items()]
        scored = [s for s in scored if s[2] > 0]
        return sorted(scored, key=lambda s: -s[2])[:limit]

    def vector_search(self, name, vector, limit):
        scored = [
            (k, v[0], cosine(vector, v[2]))
            for k, v in self.maps.get(name, {}).items()
            if v[2] is not None
        ]
        return sorted(scored, key=lambda s: -s[2])[:limit]
