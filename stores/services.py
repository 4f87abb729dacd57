"""The database behind `::hot::store` (the backend the run hooks hand to the runtime).

Concurrent writers lose nothing: a `put` is one upsert (`INSERT ... ON CONFLICT DO UPDATE`),
`put-if-missing` one insert that a unique key either accepts or refuses, and the byte count a
store keeps moves by atomic increments in the same transaction. Keyword search is PostgreSQL
full-text search (`to_tsvector('english', text)`, GIN-indexed) or SQLite FTS5 (kept by
triggers, see migration 0002). Semantic search compares the stored vectors with the query's
by cosine similarity, scanning at most HOT_STORE_SEARCH_SCAN_LIMIT entries.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum

from hostio import keywords
from hostio.embedding import cosine
from hotapi.errors import TooLarge

from .models import StoreEntry, StoreMap


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseStore:
    """One environment's stores, with the size limits of the settings."""

    def __init__(self, environment_id):
        self.environment_id = environment_id
        self.max_value_bytes = settings.HOT_STORE_MAX_VALUE_BYTES
        self.max_env_bytes = settings.HOT_STORE_MAX_BYTES_PER_ENV

    # -- helpers -----------------------------------------------------------------------------
    def _map(self, name, create=False):
        if create:
            return StoreMap.objects.get_or_create(environment_id=self.environment_id, name=name)[0]
        return StoreMap.objects.filter(environment_id=self.environment_id, name=name).first()

    def _entries(self, name):
        return StoreEntry.objects.filter(map__environment_id=self.environment_id, map__name=name)

    def _size(self, key, value):
        size = len(key.encode()) + len(json.dumps(value, separators=(",", ":")).encode())
        if size > self.max_value_bytes:
            raise TooLarge(
                f"store value too large ({size} bytes; the limit is {self.max_value_bytes})"
            )
        return size

    def _grow(self, store, delta):
        if delta > 0:
            used = (
                StoreMap.objects.filter(environment_id=self.environment_id).aggregate(
                    total=Sum("bytes")
                )["total"]
                or 0
            )
            if used + delta > self.max_env_bytes:
                raise TooLarge(
                    f"the environment's stores are full ({used} bytes used; the limit is "
                    f"{self.max_env_bytes})"
                )
        if delta:
            StoreMap.objects.filter(pk=store.pk).update(bytes=F("bytes") + delta)

    # -- writes ------------------------------------------------------------------------------
    def put(self, name, key, value, text=None, vector=None):
        size = self._size(key, value)
        h = _hash(key)
        with transaction.atomic():
            store = self._map(name, create=True)
            old = (
                StoreEntry.objects.select_for_update()
                .filter(map=store, key_hash=h)
                .values_list("size", flat=True)
                .first()
            )
            self._grow(store, size - (old or 0))
            StoreEntry.objects.bulk_create(
                [
                    StoreEntry(
                        map=store,
                        key_hash=h,
                        key=key,
                        value=value,
                        text=text or "",
                        vector=vector,
                        size=size,
                    )
                ],
                update_conflicts=True,
                unique_fields=["map", "key_hash"],
                update_fields=["value", "text", "vector", "size", "updated_at"],
            )

    def put_if_missing(self, name, key, value, text=None, vector=None):
        size = self._size(key, value)
        with transaction.atomic():
            store = self._map(name, create=True)
            try:
                with transaction.atomic():
                    StoreEntry.objects.create(
                        map=store,
                        key_hash=_hash(key),
                        key=key,
                        value=value,
                        text=text or "",
                        vector=vector,
                        size=size,
                    )
            except IntegrityError:
                return False
            self._grow(store, size)
        return True

    def delete(self, name, key):
        with transaction.atomic():
            store = self._map(name)
            if store is None:
                return False
            entry = (
                StoreEntry.objects.select_for_update()
                .filter(map=store, key_hash=_hash(key))
                .first()
            )
            if entry is None:
                return False
            entry.delete()
            self._grow(store, -entry.size)
        return True

    def clear(self, name):
        with transaction.atomic():
            store = self._map(name)
            if store is not None:
                StoreEntry.objects.filter(map=store).delete()
                StoreMap.objects.filter(pk=store.pk).update(bytes=0)
        return True

    def destroy(self, name):
        StoreMap.objects.filter(environment_id=self.environment_id, name=name).delete()
        return True

    # -- reads -------------------------------------------------------------------------------
    def get(self, name, key):
        row = self._entries(name).filter(key_hash=_hash(key)).values("value").first()
        return (True, row["value"]) if row is not None else (False, None)

    def has(self, name, key):
        return self._entries(name).filter(key_hash=_hash(key)).exists()

    def length(self, name):
        return self._entries(name).count()

    def entries(self, name, offset=0, limit=None):
        rows = self._entries(name).order_by("id").values_list("key", "value")
        end = None if limit is None else offset + limit
        return list(rows[offset:end])

    def keyword_search(self, name, query, limit):
        tokens = keywords.tokens(query)
        if not tokens:
            return []
        if connection.vendor == "postgresql":
            return self._postgres_search(name, tokens, limit)
        if connection.vendor == "sqlite":
            return self._sqlite_search(name, tokens, limit)
        rows = self._entries(name).values_list("key", "value", "text")
        scored = [(k, v, keywords.score(tokens, t)) for k, v, t in rows]
        return sorted([s for s in scored if s[2] > 0], key=lambda s: -s[2])[:limit]

    def _postgres_search(self, name, tokens, limit):
        query = SearchQuery(" | ".join(tokens), search_type="raw", config="english")
        rows = (
            self._entries(name)
            .annotate(document=SearchVector("text", config="english"))
            .filter(document=query)
            .annotate(rank=SearchRank(F("document"), query))
            .order_by("-rank", "id")
            .values_list("key", "value", "rank")[:limit]
        )
        return [(k, v, float(rank)) for k, v, rank in rows]

    def _sqlite_search(self, name, tokens, limit):
        store = self._map(name)
        if store is None:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT e.key, e.value, bm25(stores_storeentry_fts) AS score "
                "FROM stores_storeentry_fts JOIN stores_storeentry e "
                "ON e.id = stores_storeentry_fts.rowid "
                "WHERE stores_storeentry_fts MATCH %s AND e.map_id = %s "
                "ORDER BY score LIMIT %s",
                [match, store.pk.hex, limit],
            )
            rows = cursor.fetchall()
        # bm25 is lower-is-better and negative: map it to (0, 1), higher is better
        return [(k, json.loads(v), -s / (1 - s)) for k, v, s in rows]

    def vector_search(self, name, vector, limit):
        rows = (
            self._entries(name)
            .filter(vector__isnull=False)
            .order_by("id")
            .values_list("key", "value", "vector")[: settings.HOT_STORE_SEARCH_SCAN_LIMIT]
        )
        scored = [(k, v, cosine(vector, vec)) for k, v, vec in rows]
        return sorted(scored, key=lambda s: -s[2])[:limit]
