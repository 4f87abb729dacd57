"""A streaming, limit-enforcing zip reader for Hot build bundles.

Python's ``zipfile`` cannot decompress zstd (method 93), which is what the ``hot``
CLI writes, and it trusts the sizes in the headers. This reader parses the
central directory itself, refuses anything Hot's own extractor refuses
(``validate_bundle_archive`` in the Hot sources), and counts the bytes that
actually come out of each decompressor so that lying headers cannot smuggle a
decompression bomb past the limits. Nothing is held whole in memory: entries are
yielded in bounded chunks.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from .errors import BundleError

MiB = 1024 * 1024

METHOD_STORED = 0
METHOD_DEFLATED = 8
METHOD_ZSTD = 93
SUPPORTED_METHODS = {
    METHOD_STORED: "stored",
    METHOD_DEFLATED: "deflate",
    METHOD_ZSTD: "zstd",
}

# Output granularity of every decompressor. Limits are checked after each chunk,
# so this is also the most a hostile entry can overshoot a limit by in memory.
CHUNK_SIZE = 64 * 1024

# zstd frames declare the window they need; cap it so a tiny frame cannot make
# the decoder allocate gigabytes. 128 MiB covers any file below the 100 MiB limit.
ZSTD_MAX_WINDOW = 1 << 27

_FLAG_ENCRYPTED = 0x0001
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_CENTRAL_SIG = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")
_LOCAL_SIG = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF


@dataclass(frozen=True)
class BundleLimits:
    """Extraction limits. Defaults are the ones Hot enforces (``bundle.rs``)."""

    max_entries: int = 10_000
    max_file_bytes: int = 100 * MiB
    max_total_bytes: int = 100 * MiB
    max_compression_ratio: int = 1_000
    max_path_bytes: int = 1_024
    max_path_depth: int = 32
    # Hot reads at most 8 MiB of manifest.hot, nests 64 deep, 250k values.
    max_manifest_bytes: int = 8 * MiB
    max_manifest_depth: int = 64
    max_manifest_values: int = 250_000
    # How much .hot source text inspect_bundle keeps in memory for later parsing.
    max_source_bytes: int = 16 * MiB
    # How much of the files under resources/ it keeps for ::hot::resource (in total).
    max_resource_bytes: int = 32 * MiB


@dataclass(frozen=True)
class ZipEntry:
    """One central-directory record, already validated against the limits."""

    index: int
    name: str
    path: str  # normalized: no trailing slash for directories
    is_dir: bool
    method: int
    flags: int
    crc32: int
    compressed_size: int
    file_size: int  # as declared; the reader verifies it while decompressing
    header_offset: int
    external_attr: int
    create_system: int

    @property
    def unix_mode(self) -> int:
        return self.external_attr >> 16


def validate_entry_path(name: str, raw: bytes, is_dir: bool, limits: BundleLimits) -> str:
    """Return the normalized relative path of an entry or raise BundleError.

    Stricter than "does it escape the root": a path must be a plain sequence of
    named components, so ``.`` and empty components are refused too. That keeps
    one spelling per path, which is what makes the duplicate check meaningful.
    """
    shown = _show(name)
    if not name:
        raise BundleError("invalid_path", "Bundle contains an entry with an empty name", entry=name)
    if len(raw) > limits.max_path_bytes:
        raise BundleError(
            "path_too_long",
            f"Bundle entry {shown} is {len(raw)} bytes long; "
            f"the limit is {limits.max_path_bytes} bytes",
            entry=name,
        )
    if "\\" in name:
        raise BundleError("invalid_path", f"Bundle entry {shown} contains a backslash", entry=name)
    if "\x00" in name:
        raise BundleError("invalid_path", f"Bundle entry {shown} contains a NUL byte", entry=name)
    if name.startswith("/") or (
        len(name) > 1 and name[1] == ":" and name[0].isascii() and name[0].isalpha()
    ):
        raise BundleError("absolute_path", f"Bundle entry {shown} is an absolute path", entry=name)
    path = name[:-1] if is_dir else name
    parts = path.split("/")
    if ".." in parts:
        raise BundleError(
            "path_traversal",
            f"Bundle entry {shown} contains '..' and would escape the bundle",
            entry=name,
        )
    if any(part in ("", ".") for part in parts):
        raise BundleError(
            "invalid_path",
            f"Bundle entry {shown} has an empty or '.' path component",
            entry=name,
        )
    if len(parts) > limits.max_path_depth:
        raise BundleError(
            "path_too_deep",
            f"Bundle entry {shown} is {len(parts)} levels deep; "
            f"the limit is {limits.max_path_depth}",
            entry=name,
        )
    return path


def _check_entry_type(entry: ZipEntry) -> None:
    # Hot only looks at the unix mode bits; a zero file type means "not recorded".
    file_type = stat.S_IFMT(entry.unix_mode)
    if file_type == 0:
        return
    if entry.is_dir and file_type == stat.S_IFDIR:
        return
    if not entry.is_dir and file_type == stat.S_IFREG:
        return
    if file_type == stat.S_IFLNK:
        raise BundleError(
            "symlink", f"Bundle entry {_show(entry.name)} is a symbolic link", entry=entry.name
        )
    raise BundleError(
        "unsupported_entry_type",
        f"Bundle entry {_show(entry.name)} is not a regular file or directory "
        f"(mode {oct(entry.unix_mode)})",
        entry=entry.name,
    )


class _RangeFile(io.RawIOBase):
    """Read-only view of ``length`` bytes at ``start`` of a shared file object.

    Seeks before every read so several views (and the caller) can interleave.
    """

    def __init__(self, fh: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._fh = fh
        self._pos = start
        self._end = start + length

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        remaining = self._end - self._pos
        if remaining <= 0:
            return b""
        if size is None or size < 0 or size > remaining:
            size = remaining
        self._fh.seek(self._pos)
        data = self._fh.read(size)
        if not data:
            raise BundleError("corrupt_zip", "Bundle is truncated: entry data runs past the end")
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def chunks(self) -> Iterator[bytes]:
        while True:
            data = self.read(CHUNK_SIZE)
            if not data:
                return
            yield data


def _inflate(raw: _RangeFile, name: str) -> Iterator[bytes]:
    decomp = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for data in raw.chunks():
            while True:
                out = decomp.decompress(data, CHUNK_SIZE)
                if out:
                    yield out
                data = decomp.unconsumed_tail
                # A full output chunk with no input left may still have output
                # pending inside zlib, so go round once more with empty input.
                if decomp.eof or (not data and len(out) < CHUNK_SIZE):
                    break
            if decomp.eof:
                break
    except zlib.error as exc:
        raise BundleError(
            "corrupt_entry",
            f"Bundle entry {_show(name)} is not valid deflate data: {exc}",
            entry=name,
        ) from None
    if not decomp.eof:
        raise BundleError(
            "corrupt_entry",
            f"Bundle entry {_show(name)} has a truncated deflate stream",
            entry=name,
        )


def _unzstd(raw: _RangeFile, name: str) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    try:
        with dctx.stream_reader(
            raw, read_size=CHUNK_SIZE, read_across_frames=True, closefd=False
        ) as reader:
            while True:
                out = reader.read(CHUNK_SIZE)
                if not out:
                    return
                yield out
    except zstandard.ZstdError as exc:
        raise BundleError(
            "corrupt_entry", f"Bundle entry {_show(name)} is not valid zstd data: {exc}", entry=name
        ) from None


class BundleReader:
    """Validating reader over a zip file on disk or a seekable binary file object.

    Opening parses and validates the whole central directory (entry count, paths,
    types, methods, encryption, declared sizes and ratios). Decompressed bytes are
    counted again while reading, so headers are never trusted for the limits.
    """

    def __init__(
        self, source: str | os.PathLike[str] | BinaryIO, limits: BundleLimits | None = None
    ):
        self.limits = limits or BundleLimits()
        if isinstance(source, (str, os.PathLike)):
            self._fh: BinaryIO = open(source, "rb")  # closed in close()
            self._owns = True
        else:
            self._fh = source
            self._owns = False
        self._produced: dict[int, int] = {}
        try:
            self._size = self._fh.seek(0, io.SEEK_END)
            self.entries: list[ZipEntry] = self._read_directory()
        except BaseException:
            self.close()
            raise
        self._by_path = {entry.path: entry for entry in self.entries}

    # -- context manager -------------------------------------------------------------

    def close(self) -> None:
        if self._owns:
            self._fh.close()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- directory ---------------------------------------------------------------------

    def _read_at(self, offset: int, size: int) -> bytes:
        self._fh.seek(offset)
        data = self._fh.read(size)
        if len(data) != size:
            raise BundleError("corrupt_zip", "Bundle is truncated or its zip structure is corrupt")
        return data

    def _find_eocd(self) -> tuple[int, tuple[int, ...]]:
        if self._size == 0:
            raise BundleError("empty_bundle", "The uploaded bundle is empty (0 bytes)")
        tail_len = min(self._size, _EOCD.size + _MAX_COMMENT)
        tail_start = self._size - tail_len
        tail = self._read_at(tail_start, tail_len)
        pos = tail.rfind(_EOCD_SIG)
        while pos >= 0:
            if pos + _EOCD.size <= len(tail):
                record = _EOCD.unpack_from(tail, pos)
                # The comment must reach exactly to the end of the file; this
                # skips signature bytes that happen to appear inside a comment.
                if pos + _EOCD.size + record[7] == len(tail):
                    return tail_start + pos, record
            pos = tail.rfind(_EOCD_SIG, 0, pos)
        raise BundleError("not_a_zip", "The uploaded file is not a zip archive")

    def _read_directory(self) -> list[ZipEntry]:
        eocd_pos, record = self._find_eocd()
        _, disk, cd_disk, _, total, cd_size, cd_offset, _ = record
        cd_end = eocd_pos
        if 0xFFFF in (disk, cd_disk, total) or 0xFFFFFFFF in (cd_size, cd_offset):
            locator_pos = eocd_pos - _ZIP64_LOCATOR.size
            if locator_pos < 0:
                raise BundleError("corrupt_zip", "Bundle has a zip64 marker but no zip64 locator")
            sig, _, eocd64_offset, _ = _ZIP64_LOCATOR.unpack(
                self._read_at(locator_pos, _ZIP64_LOCATOR.size)
            )
            if sig != _ZIP64_LOCATOR_SIG:
                raise BundleError("corrupt_zip", "Bundle has a zip64 marker but no zip64 locator")
            eocd64_pos = locator_pos - _ZIP64_EOCD.size
            if eocd64_pos < 0:
                raise BundleError("corrupt_zip", "Bundle zip64 end record is missing")
            fields = _ZIP64_EOCD.unpack(self._read_at(eocd64_pos, _ZIP64_EOCD.size))
            if fields[0] != _ZIP64_EOCD_SIG:
                raise BundleError("corrupt_zip", "Bundle zip64 end record is missing")
            disk, cd_disk, _, total, cd_size, cd_offset = fields[4:10]
            cd_end = eocd64_pos
            del eocd64_offset  # position is derived from the locator; offset only adds skew
        if disk != 0 or cd_disk != 0:
            raise BundleError("corrupt_zip", "Multi-disk (split) zip archives are not supported")
        if total > self.limits.max_entries:
            raise BundleError(
                "too_many_entries",
                f"Bundle has {total} entries; the limit is {self.limits.max_entries}",
            )
        # Bytes prepended to the archive (e.g. a self-extractor stub) shift every
        # offset; measure the shift the same way zipfile does.
        cd_start = cd_end - cd_size
        skew = cd_start - cd_offset
        if cd_start < 0 or skew < 0:
            raise BundleError("corrupt_zip", "Bundle central directory is out of range")

        reader = _RangeFile(self._fh, cd_start, cd_size)
        buffered = io.BufferedReader(reader, buffer_size=CHUNK_SIZE)
        entries: list[ZipEntry] = []
        seen: dict[str, str] = {}
        file_paths: set[str] = set()
        dir_paths: set[str] = set()
        total_declared = 0
        while True:
            head = buffered.read(_CENTRAL.size)
            if not head:
                break
            if len(head) != _CENTRAL.size or head[:4] != _CENTRAL_SIG:
                raise BundleError("corrupt_zip", "Bundle central directory is corrupt")
            if len(entries) >= self.limits.max_entries:
                raise BundleError(
                    "too_many_entries",
                    f"Bundle has more than {self.limits.max_entries} entries",
                )
            (
                _,
                made_by,
                _,
                flags,
                method,
                _,
                _,
                crc,
                csize,
                usize,
                name_len,
                extra_len,
                comment_len,
                _,
                _,
                ext_attr,
                offset,
            ) = _CENTRAL.unpack(head)
            raw_name = buffered.read(name_len)
            extra = buffered.read(extra_len)
            buffered.read(comment_len)
            if len(raw_name) != name_len or len(extra) != extra_len:
                raise BundleError("corrupt_zip", "Bundle central directory is truncated")
            usize, csize, offset = _apply_zip64(extra, usize, csize, offset)
            name = _decode_name(raw_name, flags)
            is_dir = name.endswith("/")
            entry = ZipEntry(
                index=len(entries),
                name=name,
                path=validate_entry_path(name, raw_name, is_dir, self.limits),
                is_dir=is_dir,
                method=method,
                flags=flags,
                crc32=crc,
                compressed_size=csize,
                file_size=usize,
                header_offset=offset + skew,
                external_attr=ext_attr,
                create_system=made_by >> 8,
            )
            self._check_entry(entry)
            if entry.path in seen:
                raise BundleError(
                    "duplicate_entry",
                    f"Bundle contains {_show(entry.name)} more than once",
                    entry=entry.name,
                )
            seen[entry.path] = entry.name
            # A file that is also used as a directory (a, a/b) cannot be
            # extracted either; catch it here rather than at deploy time.
            parents = entry.path.split("/")[:-1]
            for depth in range(1, len(parents) + 1):
                parent = "/".join(parents[:depth])
                if parent in file_paths:
                    raise BundleError(
                        "duplicate_entry",
                        f"Bundle entry {_show(entry.name)} is inside {parent!r}, which is a file",
                        entry=entry.name,
                    )
                dir_paths.add(parent)
            if entry.is_dir:
                dir_paths.add(entry.path)
            else:
                if entry.path in dir_paths:
                    raise BundleError(
                        "duplicate_entry",
                        f"Bundle entry {_show(entry.name)} is both a file and a directory",
                        entry=entry.name,
                    )
                file_paths.add(entry.path)
            total_declared += entry.file_size
            if total_declared > self.limits.max_total_bytes:
                raise BundleError(
                    "bundle_too_large",
                    f"Bundle would extract to more than {_fmt(self.limits.max_total_bytes)}",
                    entry=entry.name,
                )
            entries.append(entry)
        if not entries:
            raise BundleError("empty_bundle", "The uploaded zip archive contains no entries")
        return entries

    def _check_entry(self, entry: ZipEntry) -> None:
        name = entry.name
        if entry.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
            raise BundleError(
                "encrypted_entry", f"Bundle entry {_show(name)} is encrypted", entry=name
            )
        if entry.method not in SUPPORTED_METHODS:
            raise BundleError(
                "unsupported_compression",
                f"Bundle entry {_show(name)} uses compression method {entry.method}; "
                "only stored (0), deflate (8) and zstd (93) are supported",
                entry=name,
            )
        _check_entry_type(entry)
        if entry.is_dir and entry.file_size:
            # Writers may emit an empty deflate/zstd stream for a directory, so only
            # the uncompressed size says whether it carries data.
            raise BundleError(
                "corrupt_entry", f"Directory entry {_show(name)} carries data", entry=name
            )
        if entry.file_size > self.limits.max_file_bytes:
            raise BundleError(
                "file_too_large",
                f"Bundle entry {_show(name)} is {_fmt(entry.file_size)} uncompressed; "
                f"the per-file limit is {_fmt(self.limits.max_file_bytes)}",
                entry=name,
            )
        self._check_ratio(entry, entry.file_size)
        if entry.header_offset + entry.compressed_size > self._size:
            raise BundleError(
                "corrupt_zip",
                f"Bundle entry {_show(name)} points past the end of the file",
                entry=name,
            )

    def _check_ratio(self, entry: ZipEntry, produced: int) -> None:
        if produced == 0:
            return
        limit = self.limits.max_compression_ratio
        if entry.compressed_size == 0 or produced > limit * entry.compressed_size:
            raise BundleError(
                "compression_ratio",
                f"Bundle entry {_show(entry.name)} expands more than {limit}:1 "
                f"({entry.compressed_size} compressed bytes)",
                entry=entry.name,
            )

    # -- data --------------------------------------------------------------------------

    def get(self, path: str) -> ZipEntry | None:
        """The entry at a normalized path (``manifest.hot``, ``hot/src/a.hot``)."""
        return self._by_path.get(path)

    @property
    def total_read(self) -> int:
        """Decompressed bytes produced so far (each entry counted once)."""
        return sum(self._produced.values())

    def _data_offset(self, entry: ZipEntry) -> int:
        head = self._read_at(entry.header_offset, _LOCAL.size)
        if head[:4] != _LOCAL_SIG:
            raise BundleError(
                "corrupt_zip",
                f"Bundle entry {_show(entry.name)} has no local header",
                entry=entry.name,
            )
        fields = _LOCAL.unpack(head)
        name_len, extra_len = fields[9], fields[10]
        local_name = self._read_at(entry.header_offset + _LOCAL.size, name_len)
        # An extractor that trusts local headers would see a different name; refuse
        # the ambiguity instead of picking one.
        if _decode_name(local_name, fields[2]) != entry.name:
            raise BundleError(
                "corrupt_zip",
                f"Bundle entry {_show(entry.name)} has a different name in its local header",
                entry=entry.name,
            )
        start = entry.header_offset + _LOCAL.size + name_len + extra_len
        if start + entry.compressed_size > self._size:
            raise BundleError(
                "corrupt_zip", f"Bundle entry {_show(entry.name)} is truncated", entry=entry.name
            )
        return start

    def iter_chunks(self, entry: ZipEntry) -> Iterator[bytes]:
        """Yield the decompressed bytes of ``entry`` in chunks of at most 64 KiB.

        Raises BundleError as soon as the entry exceeds the per-file, total or
        ratio limit, and at the end if size or CRC-32 differ from the headers.
        """
        if entry.is_dir:
            return
        limits = self.limits
        others = self.total_read - self._produced.get(entry.index, 0)
        raw = _RangeFile(self._fh, self._data_offset(entry), entry.compressed_size)
        if entry.method == METHOD_STORED:
            source: Iterator[bytes] = raw.chunks()
        elif entry.method == METHOD_DEFLATED:
            source = _inflate(raw, entry.name)
        else:
            source = _unzstd(raw, entry.name)
        produced = 0
        crc = 0
        for chunk in source:
            produced += len(chunk)
            if produced > limits.max_file_bytes:
                raise BundleError(
                    "file_too_large",
                    f"Bundle entry {_show(entry.name)} decompresses to more than "
                    f"{_fmt(limits.max_file_bytes)}",
                    entry=entry.name,
                )
            if others + produced > limits.max_total_bytes:
                raise BundleError(
                    "bundle_too_large",
                    f"Bundle decompresses to more than {_fmt(limits.max_total_bytes)} "
                    f"(exceeded while reading {_show(entry.name)})",
                    entry=entry.name,
                )
            self._check_ratio(entry, produced)
            crc = zlib.crc32(chunk, crc)
            yield chunk
        self._produced[entry.index] = max(self._produced.get(entry.index, 0), produced)
        if produced != entry.file_size:
            raise BundleError(
                "corrupt_entry",
                f"Bundle entry {_show(entry.name)} decompresses to {produced} bytes but its header "
                f"says {entry.file_size}",
                entry=entry.name,
            )
        if crc != entry.crc32:
            raise BundleError(
                "corrupt_entry",
                f"Bundle entry {_show(entry.name)} fails its CRC-32 check",
                entry=entry.name,
            )

    def read(self, entry: ZipEntry, max_bytes: int | None = None) -> bytes:
        """Read a whole entry; ``max_bytes`` bounds it below the per-file limit."""
        if max_bytes is not None and entry.file_size > max_bytes:
            raise BundleError(
                "file_too_large",
                f"Bundle entry {_show(entry.name)} is larger than {_fmt(max_bytes)}",
                entry=entry.name,
            )
        parts: list[bytes] = []
        size = 0
        for chunk in self.iter_chunks(entry):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise BundleError(
                    "file_too_large",
                    f"Bundle entry {_show(entry.name)} is larger than {_fmt(max_bytes)}",
                    entry=entry.name,
                )
            parts.append(chunk)
        return b"".join(parts)


def _apply_zip64(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<2H", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag != 0x0001:
            continue
        # Only the fields whose 32-bit value is saturated are present, in order.
        values = [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
        if usize == 0xFFFFFFFF and values:
            usize = values.pop(0)
        if csize == 0xFFFFFFFF and values:
            csize = values.pop(0)
        if offset == 0xFFFFFFFF and values:
            offset = values.pop(0)
    return usize, csize, offset


def _decode_name(raw: bytes, flags: int) -> str:
    if flags & _FLAG_UTF8:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BundleError(
                "invalid_path", f"Bundle entry name {raw[:120]!r} is not valid UTF-8"
            ) from None
    return raw.decode("cp437")


def _show(name: str, limit: int = 120) -> str:
    """repr() of an entry name for messages, shortened: names can be 1 KiB long."""
    if len(name) > limit:
        return repr(name[:limit]) + f"... ({len(name)} characters)"
    return repr(name)


def _fmt(size: int) -> str:
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    return f"{size} bytes"
