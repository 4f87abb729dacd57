"""Large payloads as blobs: what is kept out of database rows, and how it comes back.

Before a payload (event data, a run result, a captured variable, a task's arguments) is
written to its row, ``spill`` walks it bottom-up: each string or Bytes value, and then each
object or array (the whole payload included), whose JSON is at least
``HOT_BLOB_THRESHOLD_BYTES`` is stored as a blob object and replaced by a reference in Hot's
shape::

    {"$type": "::hot::blob/BlobRef",
     "$val": {"id", "object-id", "hash-alg": "sha256", "hash", "size", "content-type",
              "encoding": "string" | "bytes" | "json", "preview"?, "blobs"?}}

(``preview``: the first characters of a string; ``blobs``: the blobs a JSON blob refers to,
so that a reader looks them all up at once.)

Rows stay small whatever clients send; the payload's small parts stay readable in place.
``Rehydrator`` puts the values back where payloads leave the service: the API's responses
(within a budget per response, ``HOT_BLOB_INLINE_MAX_BYTES``: past it the references are
shown, and ``GET /v1/blobs/{id}/download`` serves them) and the arguments a run executes with
(always whole). A reference resolves only to a blob of the same environment: one found in
client data that names another environment's blob is left as it is.

Blobs are not counted in the storage quota (they hold what would otherwise be in the rows, as
in Hot), and they stay as long as their environment.
"""

import hashlib
import json
import logging
import uuid
from contextlib import contextmanager

from django.conf import settings

from hotapi import sql

from . import storage
from .models import Blob, BlobEncoding

log = logging.getLogger(__name__)

BLOB_REF_TYPE = "::hot::blob/BlobRef"
BYTES_TYPE = "::hot::type/Bytes"
PREVIEW_CHARS = 120
CONTENT_TYPES = {
    BlobEncoding.STRING: "text/plain; charset=utf-8",
    BlobEncoding.BYTES: "application/octet-stream",
    BlobEncoding.JSON: "application/json",
}


def is_blob_ref(value) -> bool:
    return isinstance(value, dict) and value.get("$type") == BLOB_REF_TYPE


def contains_blob_ref(value) -> bool:
    if isinstance(value, dict):
        return is_blob_ref(value) or any(contains_blob_ref(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_blob_ref(item) for item in value)
    return False


def _is_bytes(value) -> bool:
    return (
        isinstance(value, dict)
        and value.get("$type") == BYTES_TYPE
        and isinstance(value.get("$val"), list)
        and len(value) == 2
    )


def _scalar_size(value) -> int:
    if isinstance(value, str):
        return len(value.encode()) + 2
    return len(json.dumps(value, default=str))


class Spill:
    """Spills payloads of one environment (call it on each): the blob objects are stored at
    once, their rows kept for ``save``."""

    def __init__(self, environment_id, source: str):
        self.environment_id = environment_id
        self.source = source
        self.threshold = settings.HOT_BLOB_THRESHOLD_BYTES
        self.blobs: list[Blob] = []

    def __call__(self, value, *, source: str | None = None, inline_root: bool = False):
        """``value`` with its large parts stored as blobs; ``inline_root``: the value itself
        stays an object or array (its members may become references), for payloads whose top
        level is read where they are stored (event data: ``hot:call`` reads ``fn`` and
        ``args``)."""
        if value is None or isinstance(value, bool | int | float):
            return value
        stored, _ = self._walk(value, source or self.source, inline_root)
        return stored

    def _store(self, data: bytes, encoding: str, source: str, preview=None, inner=()) -> dict:
        blob = Blob(
            id=uuid.uuid4(),
            environment_id=self.environment_id,
            source=source,
            encoding=encoding,
            content_type=CONTENT_TYPES[encoding],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=storage.new_key(self.environment_id, "blobs"),
        )
        storage.save_bytes(blob.storage_key, data)
        self.blobs.append(blob)
        ref = {
            "id": str(blob.id),
            "object-id": str(blob.id),
            "hash-alg": "sha256",
            "hash": blob.sha256,
            "size": blob.size,
            "content-type": blob.content_type,
            "encoding": encoding,
        }
        if preview is not None:
            ref["preview"] = preview[:PREVIEW_CHARS]
        if inner:  # the blobs referenced inside this one, so a reader can look them up at once
            ref["blobs"] = sorted(str(blob_id) for blob_id in inner)
        return {"$type": BLOB_REF_TYPE, "$val": ref}

    def _walk(self, value, source: str, inline: bool = False) -> tuple[object, int]:
        """(value with large parts replaced by references, size of its JSON as stored)."""
        if isinstance(value, str):
            if len(value) * 4 < self.threshold:  # short whatever its characters: no encoding
                return value, len(value) + 2
            data = value.encode()
            if len(data) >= self.threshold:
                ref = self._store(data, BlobEncoding.STRING, source, value)
                return ref, _scalar_size(ref)
            return value, len(data) + 2
        if _is_bytes(value):
            items = value["$val"]
            if len(items) >= self.threshold and all(
                isinstance(x, int) and 0 <= x <= 255 for x in items
            ):
                value = self._store(bytes(items), BlobEncoding.BYTES, source)
            return value, _scalar_size(value)
        if isinstance(value, dict):
            walked = {key: self._walk(item, source) for key, item in value.items()}
            value = {key: item for key, (item, _) in walked.items()}
            size = 2 + sum(_scalar_size(key) + 1 + size for key, (_, size) in walked.items())
        elif isinstance(value, list):
            walked = [self._walk(item, source) for item in value]
            value = [item for item, _ in walked]
            size = 2 + sum(size + 1 for _, size in walked)
        else:
            return value, _scalar_size(value)
        if size >= self.threshold and not inline and not is_blob_ref(value):
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            inner = set()
            _collect(value, inner)
            value = self._store(text.encode(), BlobEncoding.JSON, source, inner=inner)
            size = _scalar_size(value)
        return value, size

    def rows_statement(self) -> tuple[str, list] | None:
        """The statement that saves the blob rows so far (``hotapi.sql``), for a caller that
        writes them with its own rows; they are then not saved again at the block's end (their
        objects are still removed if the block fails)."""
        rows = [blob for blob in self.blobs if blob._state.adding]
        if not rows:
            return None
        statement = sql.insert_statement(rows)
        sql.mark_saved(rows)
        return statement

    def save(self) -> None:
        Blob.objects.bulk_create([blob for blob in self.blobs if blob._state.adding])
        self.blobs = []

    def discard(self) -> None:
        storage.delete_quietly([blob.storage_key for blob in self.blobs])
        self.blobs = []


@contextmanager
def spilling(*, environment_id, source: str):
    """A ``Spill`` for rows written in the block: the blob rows are saved at its end (in the
    block's transaction), and the objects are removed again if the block fails."""
    work = Spill(environment_id, source)
    try:
        yield work
        work.save()
    except BaseException:
        work.discard()
        raise


# --- rehydration -----------------------------------------------------------------------------


class BlobUnavailable(Exception):
    pass


def _decode(blob: Blob, data: bytes):
    if blob.encoding == BlobEncoding.STRING:
        return data.decode("utf-8")
    if blob.encoding == BlobEncoding.BYTES:
        return {"$type": BYTES_TYPE, "$val": list(data)}
    return json.loads(data)


class Rehydrator:
    """Puts blobs back into payloads of one environment. ``budget``: bytes of blobs it may put
    back in all (None: no limit, and a blob that cannot be read is an error instead of a
    reference left in place)."""

    def __init__(self, environment_id, budget: int | None = -1):
        self.environment_id = environment_id
        self.left = settings.HOT_BLOB_INLINE_MAX_BYTES if budget == -1 else budget
        self.strict = budget is None
        self.rows: dict[str, Blob | None] = {}  # looked up already (None: not found)

    def __call__(self, value):
        if not contains_blob_ref(value):
            return value
        return self._replace(value, self.prefetch([value]))

    def prefetch(self, values) -> dict:
        """Look up the blobs ``values`` refer to in one query (a page of a list at once)."""
        ids = set()
        for value in values:
            _collect(value, ids)
        missing = {blob_id for blob_id in ids if str(blob_id) not in self.rows}
        if missing:
            found = Blob.objects.filter(environment_id=self.environment_id, pk__in=missing)
            self.rows.update({str(blob_id): None for blob_id in missing})
            self.rows.update({str(blob.id): blob for blob in found})
        return self.rows

    def _replace(self, value, rows: dict):
        if is_blob_ref(value):
            return self._resolve(value, rows)
        if isinstance(value, dict):
            return {key: self._replace(item, rows) for key, item in value.items()}
        if isinstance(value, list):
            return [self._replace(item, rows) for item in value]
        return value

    def _resolve(self, ref: dict, rows: dict):
        blob = rows.get(str((ref.get("$val") or {}).get("id")))
        try:
            if blob is None:
                raise BlobUnavailable(f"blob {ref.get('$val', {}).get('id')} not found")
            if self.left is not None and blob.size > self.left:
                return ref  # over this response's budget: the reference stays
            data = storage.read_bytes(blob.storage_key)
        except (BlobUnavailable, OSError) as exc:
            if self.strict:
                raise BlobUnavailable(str(exc)) from None
            log.warning("A blob reference stays unresolved: %s", exc)
            return ref
        if self.left is not None:
            self.left -= blob.size
        decoded = _decode(blob, data)
        return self(decoded) if blob.encoding == BlobEncoding.JSON else decoded


def _collect(value, ids: set) -> None:
    if is_blob_ref(value):
        ref = value.get("$val") if isinstance(value.get("$val"), dict) else {}
        inner = ref.get("blobs") if isinstance(ref.get("blobs"), list) else []
        for ref_id in [ref.get("id"), *inner]:
            try:
                ids.add(uuid.UUID(str(ref_id)))
            except ValueError:
                pass
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, ids)
    elif isinstance(value, list):
        for item in value:
            _collect(item, ids)


def response_rehydrator(context: dict, environment_id) -> Rehydrator | None:
    """The response's ``Rehydrator``, kept in a serializer's ``context`` (one per response, so
    the budget is per response); None with ``context={"rehydrate": False}``, which keeps the
    references (what is recorded elsewhere, such as the stream log)."""
    if context.get("rehydrate") is False:
        return None
    rehydrator = context.get("rehydrator")
    if rehydrator is None or rehydrator.environment_id != environment_id:
        rehydrator = context["rehydrator"] = Rehydrator(environment_id)
    return rehydrator


def rehydrate_for_response(value, *, context: dict, environment_id):
    """``value`` as a response shows it (see ``response_rehydrator``)."""
    if not contains_blob_ref(value):
        return value
    rehydrator = response_rehydrator(context, environment_id)
    return value if rehydrator is None else rehydrator(value)


def rehydrated(value, *, environment_id):
    """``value`` whole, for code that must work on it (a run's arguments)."""
    return Rehydrator(environment_id, budget=None)(value)
