"""builds.bundle.reader: the zip layer and every extraction limit Hot enforces."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from builds.bundle.errors import BundleError
from builds.bundle.reader import (
    METHOD_DEFLATED,
    METHOD_STORED,
    METHOD_ZSTD,
    BundleLimits,
    BundleReader,
)
from tests import bundles as B


def _reader(data: bytes, **limits: int) -> BundleReader:
    return BundleReader(io.BytesIO(data), BundleLimits(**limits))


def _read_all(data: bytes, **limits: int) -> dict[str, bytes]:
    with _reader(data, **limits) as reader:
        return {e.path: reader.read(e) for e in reader.entries if not e.is_dir}


def _code(data: bytes, **limits: int) -> str:
    with pytest.raises(BundleError) as info:
        _read_all(data, **limits)
    return info.value.code


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [METHOD_STORED, METHOD_DEFLATED, METHOD_ZSTD])
def test_reads_every_supported_method(method):
    payload = b"::app::main ns\n" + bytes(range(256)) * 50
    data = B.write_zip([B.RawEntry("hot/src/a.hot", payload, method)])
    assert _read_all(data) == {"hot/src/a.hot": payload}


def test_reads_multi_chunk_entries_exactly():
    # Larger than several 64 KiB chunks and not compressible to a trivial stream.
    payload = b"".join(i.to_bytes(4, "little") for i in range(300_000))
    for method in (METHOD_DEFLATED, METHOD_ZSTD):
        data = B.write_zip([B.RawEntry("resources/big.bin", payload, method)])
        assert _read_all(data)["resources/big.bin"] == payload


def test_reads_from_path(tmp_path):
    data, _ = B.make_bundle()
    path = tmp_path / "b.hot.zip"
    path.write_bytes(data)
    with BundleReader(path) as reader:
        names = [e.name for e in reader.entries]
        assert names[0] == "manifest.hot"
        assert B.DEFAULT_SOURCE_PATH in names
        text = reader.read(reader.get(B.DEFAULT_SOURCE_PATH)).decode()
    assert text == B.DEFAULT_SOURCE


def test_reads_zip_written_by_pythons_zipfile():
    # An independent writer: data descriptors, deflate, directories, comments.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("hot/", b"")
        zf.writestr("hot/src/a.hot", b"::a ns\n" * 100)
        zf.writestr("resources/x.txt", b"x", compress_type=zipfile.ZIP_STORED)
        zf.comment = b"a comment with PK\x05\x06 inside"
    with _reader(buf.getvalue()) as reader:
        entries = {e.path: e for e in reader.entries}
        assert entries["hot"].is_dir
        assert reader.read(entries["hot/src/a.hot"]) == b"::a ns\n" * 100
        assert reader.read(entries["resources/x.txt"]) == b"x"


def test_reads_zip64_archives():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("hot/src/a.hot", "w", force_zip64=True) as fh:
            fh.write(b"::a ns\n")
    assert _read_all(buf.getvalue()) == {"hot/src/a.hot": b"::a ns\n"}


def test_tolerates_bytes_prepended_to_the_archive():
    data = B.write_zip([B.RawEntry("hot/src/a.hot", b"::a ns\n")])
    assert _read_all(b"#!/bin/sh\nexit 0\n" + data) == {"hot/src/a.hot": b"::a ns\n"}


def test_directory_entries_are_allowed():
    data = B.write_zip(
        [
            B.RawEntry("hot/", method=METHOD_STORED, mode=0o040755),
            B.RawEntry("hot/src/", method=METHOD_STORED, mode=0o040755),
            B.RawEntry("hot/src/a.hot", b"::a ns\n"),
        ]
    )
    with _reader(data) as reader:
        assert [e.is_dir for e in reader.entries] == [True, True, False]
        assert list(reader.iter_chunks(reader.entries[0])) == []


def test_unicode_names_are_utf8():
    data = B.write_zip([B.RawEntry("resources/caf\u00e9.md", b"x")])
    assert list(_read_all(data)) == ["resources/caf\u00e9.md"]


# -- archive-level rejections -------------------------------------------------------------


def test_not_a_zip():
    assert _code(b"hello world, not a zip" * 10) == "not_a_zip"


def test_empty_file_and_empty_zip():
    assert _code(b"") == "empty_bundle"
    assert _code(B.write_zip([])) == "empty_bundle"


def test_truncated_zip_is_refused():
    payload = bytes(range(256)) * 40
    data = B.write_zip([B.RawEntry("hot/src/a.hot", payload, METHOD_STORED)])
    # Chop the middle out: the end record survives but points at garbage.
    broken = data[:40] + data[-200:]
    assert _code(broken) in {"corrupt_zip", "not_a_zip"}


# -- paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../evil.hot", "path_traversal"),
        ("hot/src/../../evil.hot", "path_traversal"),
        ("hot/..", "path_traversal"),
        ("/etc/passwd", "absolute_path"),
        ("C:/Windows/win.ini", "absolute_path"),
        ("c:evil", "absolute_path"),
        ("hot\\src\\a.hot", "invalid_path"),
        ("hot/./a.hot", "invalid_path"),
        ("hot//a.hot", "invalid_path"),
        ("hot/a\x00.hot", "invalid_path"),
    ],
)
def test_unsafe_paths_are_refused(name, code):
    data = B.write_zip([B.RawEntry(name, b"x")])
    with pytest.raises(BundleError) as info:
        _read_all(data)
    assert info.value.code == code
    assert info.value.entry == name
    assert repr(name)[:20] in info.value.message


def test_path_length_limit_counts_bytes():
    ok = "resources/" + "a" * (1024 - len("resources/"))
    assert len(ok.encode()) == 1024
    assert list(_read_all(B.write_zip([B.RawEntry(ok, b"x")]))) == [ok]
    too_long = ok + "b"
    assert _code(B.write_zip([B.RawEntry(too_long, b"x")])) == "path_too_long"
    # Multi-byte characters count by their UTF-8 length.
    wide = "resources/" + "\u00e9" * 510  # 10 + 1020 bytes
    assert _code(B.write_zip([B.RawEntry(wide, b"x")])) == "path_too_long"


def test_path_depth_limit():
    ok = "/".join(["d"] * 31 + ["f.txt"])
    assert list(_read_all(B.write_zip([B.RawEntry(ok, b"x")]))) == [ok]
    deep = "/".join(["d"] * 32 + ["f.txt"])
    assert _code(B.write_zip([B.RawEntry(deep, b"x")])) == "path_too_deep"


def test_limits_are_parameters():
    data = B.write_zip([B.RawEntry("a/b/c.txt", b"x")])
    assert _code(data, max_path_depth=2) == "path_too_deep"
    assert _code(data, max_path_bytes=5) == "path_too_long"


@pytest.mark.parametrize(
    "names",
    [
        ["hot/src/a.hot", "hot/src/a.hot"],
        ["hot/src/", "hot/src"],  # a directory and a file with one path
        ["hot/src/a.hot", "hot/src/a.hot/b.hot"],  # a file used as a directory
    ],
)
def test_duplicate_names_are_refused(names):
    data = B.write_zip(
        [
            B.RawEntry(n, b"", METHOD_STORED, mode=0o040755)
            if n.endswith("/")
            else B.RawEntry(n, b"x")
            for n in names
        ]
    )
    with pytest.raises(BundleError) as info:
        _read_all(data)
    assert info.value.code == "duplicate_entry"
    assert "hot/src" in info.value.message


# -- entry types and flags ----------------------------------------------------------------


def test_symlinks_are_refused():
    data = B.write_zip([B.RawEntry("hot/src/link.hot", b"../../etc/passwd", mode=0o120777)])
    with pytest.raises(BundleError) as info:
        _read_all(data)
    assert info.value.code == "symlink"
    assert "hot/src/link.hot" in info.value.message


@pytest.mark.parametrize("mode", [0o010644, 0o020644, 0o060644, 0o140644])  # fifo, chr, blk, sock
def test_special_files_are_refused(mode):
    data = B.write_zip([B.RawEntry("hot/src/dev.hot", b"", METHOD_STORED, mode=mode)])
    assert _code(data) == "unsupported_entry_type"


def test_entries_without_unix_mode_are_files():
    data = B.write_zip([B.RawEntry("hot/src/a.hot", b"x", mode=None)])
    assert _read_all(data) == {"hot/src/a.hot": b"x"}


def test_directory_with_data_is_refused():
    data = B.write_zip([B.RawEntry("hot/", b"data", METHOD_STORED, mode=0o040755)])
    assert _code(data) == "corrupt_entry"


@pytest.mark.parametrize("flags", [0x0001, 0x0041])
def test_encrypted_entries_are_refused(flags):
    data = B.write_zip([B.RawEntry("resources/s.txt", b"x", METHOD_STORED, flags=flags)])
    assert _code(data) == "encrypted_entry"


@pytest.mark.parametrize("method", [1, 9, 12, 14, 95, 99])
def test_unsupported_methods_are_refused(method):
    data = B.write_zip([B.RawEntry("resources/x", b"x", method=method, compressed=b"xx")])
    with pytest.raises(BundleError) as info:
        _read_all(data)
    assert info.value.code == "unsupported_compression"
    assert str(method) in info.value.message


# -- sizes, ratios, counts ----------------------------------------------------------------


def test_entry_count_limit():
    entries = [B.RawEntry(f"r/{i}", b"", METHOD_STORED) for i in range(10_000)]
    with _reader(B.write_zip(entries)) as reader:
        assert len(reader.entries) == 10_000
    entries.append(B.RawEntry("r/one-too-many", b"", METHOD_STORED))
    assert _code(B.write_zip(entries)) == "too_many_entries"
    assert _code(B.write_zip(entries[:5]), max_entries=4) == "too_many_entries"


def test_entry_count_is_checked_even_if_end_record_lies():
    entries = [B.RawEntry(f"r/{i}", b"", METHOD_STORED) for i in range(6)]
    data = bytearray(B.write_zip(entries))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (3).to_bytes(2, "little") * 2  # claim 3 entries
    assert _code(bytes(data), max_entries=5) == "too_many_entries"


def test_declared_file_size_limit():
    data = B.write_zip([B.RawEntry("resources/a", b"x" * 2000, METHOD_DEFLATED)])
    assert _code(data, max_file_bytes=1999) == "file_too_large"
    assert _read_all(data, max_file_bytes=2000)


def test_declared_total_size_limit():
    data = B.write_zip(
        [B.RawEntry(f"resources/{i}", bytes([i]) * 600, METHOD_STORED) for i in range(3)]
    )
    assert _code(data, max_total_bytes=1799) == "bundle_too_large"
    assert _read_all(data, max_total_bytes=1800)


def test_ratio_limit_from_headers():
    payload = b"\x00" * 200_000  # zstd squeezes this far past 1000:1
    data = B.write_zip([B.RawEntry("resources/zeros", payload, METHOD_ZSTD)])
    assert _code(data) == "compression_ratio"
    # Under a looser ratio the same entry reads fine.
    assert _read_all(data, max_compression_ratio=10_000)["resources/zeros"] == payload


def test_zstd_bomb_is_caught():
    bomb = B.compression_bomb(20 * 1024 * 1024)
    with pytest.raises(BundleError) as info:
        _read_all(bomb.data)
    assert info.value.code == "compression_ratio"
    assert "resources/zeros.bin" in info.value.message


def test_lying_headers_are_caught_by_counting_ratio():
    # Header: 2x compressed size. Stream: 200 MiB of zeros.
    bomb = B.lying_bomb()
    with _reader(bomb.data) as reader:
        entry = reader.get("resources/small.txt")
        assert entry.file_size < 1_000_000  # the header passes the up-front checks
        with pytest.raises(BundleError) as info:
            for _ in reader.iter_chunks(entry):
                pass
    assert info.value.code == "compression_ratio"


def _lying_entry(actual: int, declared: int, method: int) -> bytes:
    payload = bytes(range(256)) * (actual // 256)
    return B.write_zip(
        [
            B.RawEntry(
                "resources/lie.bin",
                method=method,
                compressed=B.compress(payload, method),
                declared_size=declared,
                crc=zlib.crc32(payload),
            )
        ]
    )


@pytest.mark.parametrize("method", [METHOD_DEFLATED, METHOD_ZSTD])
def test_lying_headers_are_caught_by_counting_file_size(method):
    data = _lying_entry(actual=512_000, declared=1_000, method=method)
    # Ratio disabled so that only the byte counting can stop it.
    assert _code(data, max_file_bytes=100_000, max_compression_ratio=10**9) == "file_too_large"


def test_lying_headers_are_caught_by_counting_total_size():
    # The first entry is honest; the second claims 10 bytes and streams 50,000.
    # The declared total (100,010) passes; the counted total (150,000) must not.
    honest = B.RawEntry("resources/honest", b"\x01" * 100_000, METHOD_ZSTD)
    liar = B.RawEntry(
        "resources/liar",
        compressed=B.compress(b"\x01" * 50_000, METHOD_ZSTD),
        declared_size=10,
        crc=0,
    )
    data = B.write_zip([honest, liar])
    code = _code(data, max_total_bytes=120_000, max_compression_ratio=10**9)
    assert code == "bundle_too_large"


@pytest.mark.parametrize("method", [METHOD_DEFLATED, METHOD_ZSTD])
def test_size_mismatch_is_corrupt(method):
    data = _lying_entry(actual=5_120, declared=1_000, method=method)
    assert _code(data, max_compression_ratio=10**9) == "corrupt_entry"


def test_crc_mismatch_is_corrupt():
    data = B.write_zip([B.RawEntry("resources/a", b"hello", METHOD_ZSTD, crc=1234)])
    with pytest.raises(BundleError) as info:
        _read_all(data)
    assert info.value.code == "corrupt_entry"
    assert "CRC" in info.value.message


@pytest.mark.parametrize("method", [METHOD_DEFLATED, METHOD_ZSTD])
def test_garbage_compressed_data_is_corrupt(method):
    data = B.write_zip(
        [B.RawEntry("resources/a", method=method, compressed=b"\xff" * 64, declared_size=10)]
    )
    assert _code(data) == "corrupt_entry"


def test_total_is_counted_once_per_entry():
    data = B.write_zip([B.RawEntry("resources/a", b"x" * 1000, METHOD_STORED)])
    with _reader(data, max_total_bytes=1000) as reader:
        entry = reader.entries[0]
        # Reading the same entry twice must not count it twice.
        assert reader.read(entry) == reader.read(entry)
        assert reader.total_read == 1000


def test_read_max_bytes():
    data = B.write_zip([B.RawEntry("manifest.hot", b"{}" * 100)])
    with _reader(data) as reader:
        with pytest.raises(BundleError) as info:
            reader.read(reader.entries[0], max_bytes=10)
    assert info.value.code == "file_too_large"


def test_local_header_name_must_match_central_directory():
    data = bytearray(B.write_zip([B.RawEntry("hot/src/a.hot", b"x", METHOD_STORED)]))
    data[30:43] = b"hot/src/b.hot"  # rename only in the local header
    assert _code(bytes(data)) == "corrupt_zip"


def test_messages_name_the_entry_and_stay_short():
    name = "resources/" + "x" * 2000
    with pytest.raises(BundleError) as info:
        _read_all(B.write_zip([B.RawEntry(name, b"x")]))
    assert "resources/xxx" in info.value.message
    assert len(info.value.message) < 400


def test_error_is_limit_flag():
    assert BundleError("too_many_entries", "x").is_limit
    assert not BundleError("symlink", "x").is_limit
