"""tests.bundles: the fixture factory writes zips other tools read the same way.

These checks use only independent readers (Python's ``zipfile`` for the central
directory, ``zstandard`` directly for method 93, the ``zipinfo`` tool when it is
installed), never builds.bundle's reader, so a shared mistake cannot hide.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile
import zlib

import pytest
import zstandard

from builds.bundle.manifest import parse_hot_data, to_jsonable
from tests import bundles as B


def _raw_payload(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of one entry, located through its local header."""
    header = data[info.header_offset : info.header_offset + 30]
    signature, *_, name_len, extra_len = struct.unpack("<4s5H3L2H", header)
    assert signature == b"PK\x03\x04"
    start = info.header_offset + 30 + name_len + extra_len
    return data[start : start + info.compress_size]


def _independent_read(data: bytes) -> dict[str, bytes]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.compress_type == B.ZSTD:
                content = zstandard.ZstdDecompressor().decompress(
                    _raw_payload(data, info), max_output_size=info.file_size
                )
            else:
                content = zf.read(info)
            assert len(content) == info.file_size
            assert zlib.crc32(content) == info.CRC
            out[info.filename] = content
    return out


def test_zstd_bundle_reads_independently():
    data, _ = B.make_bundle()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [
            "manifest.hot",
            B.DEFAULT_SOURCE_PATH,
            "docs/project/docs.json",
        ]
        assert {i.compress_type for i in infos} == {93}
        assert all((i.external_attr >> 16) == 0o100644 for i in infos)
    files = _independent_read(data)
    assert files[B.DEFAULT_SOURCE_PATH] == B.DEFAULT_SOURCE.encode()
    assert files["manifest.hot"].startswith(b'{\n  "hot.bundle.app": {')


def test_deflate_and_stored_bundles_pass_zipfile_testzip():
    for compression, method in (("deflate", zipfile.ZIP_DEFLATED), ("stored", zipfile.ZIP_STORED)):
        data, _ = B.make_bundle(compression=compression)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.testzip() is None
            assert {i.compress_type for i in zf.infolist()} == {method}
            assert zf.read(B.DEFAULT_SOURCE_PATH) == B.DEFAULT_SOURCE.encode()


@pytest.mark.skipif(shutil.which("zipinfo") is None, reason="zipinfo is not installed")
def test_zipinfo_lists_the_zstd_bundle(tmp_path):
    data, _ = B.make_bundle()
    path = tmp_path / "app.hot.zip"
    path.write_bytes(data)
    listing = subprocess.run(
        ["zipinfo", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "manifest.hot" in listing
    assert B.DEFAULT_SOURCE_PATH in listing
    assert "3 files" in listing


def test_manifest_is_hot_data_with_hot_key_style():
    files = {B.DEFAULT_SOURCE_PATH: B.DEFAULT_SOURCE.encode()}
    data = B.manifest_data(files)
    text = B.to_hot(data)
    # Identifiers are bare, anything else quoted; two-space indentation.
    assert "\n    engine_version: " in text
    assert '"user.signup": [' in text
    assert '"hot:call": [' in text
    assert "on-event: " in text
    assert to_jsonable(parse_hot_data(text)) == data


def test_bundle_hash_matches_the_manifest_and_the_cli_formula():
    data, bundle_hash = B.make_bundle()
    manifest = parse_hot_data(_independent_read(data)["manifest.hot"])
    info = manifest["hot.bundle.app"]
    assert info["bundle_hash"] == bundle_hash
    file_hash = B.blake3_hex(B.DEFAULT_SOURCE.encode())
    assert info["files"] == [
        {"path": B.DEFAULT_SOURCE_PATH, "hash": file_hash, "size": len(B.DEFAULT_SOURCE.encode())}
    ]
    assert bundle_hash == B.blake3.blake3(file_hash.encode()).hexdigest()


def test_default_source_lines_match_the_manifest():
    files = {B.DEFAULT_SOURCE_PATH: B.DEFAULT_SOURCE.encode()}
    data = B.manifest_data(files)["hot.bundle.app"]
    (handler,) = data["event_handlers"]["user.signup"]
    (schedule,) = data["scheduled_functions"]["every day at 2:00 am"]
    lines = B.DEFAULT_SOURCE.splitlines()
    assert lines[handler["line"] - 1] == "on-signup"
    assert lines[schedule["line"] - 1] == "nightly-digest"
    assert B.DEFAULT_SOURCE.encode()[handler["position"] :].startswith(b"on-signup")


def test_hostile_builders_produce_what_they_claim():
    with zipfile.ZipFile(io.BytesIO(B.hostile("symlink").data)) as zf:
        link = zf.getinfo("hot/src/app/link.hot")
        assert (link.external_attr >> 16) & 0o170000 == 0o120000
    with zipfile.ZipFile(io.BytesIO(B.hostile("duplicate_names").data)) as zf:
        names = [i.filename for i in zf.infolist()]
        assert names.count(B.DEFAULT_SOURCE_PATH) == 2
    assert len(B.hostile("too_many_entries").data) < 2 * 1024 * 1024
    bomb = B.hostile("compression_bomb")
    with zipfile.ZipFile(io.BytesIO(bomb.data)) as zf:
        info = zf.getinfo("resources/zeros.bin")
        assert info.file_size / info.compress_size > 1000
    assert B.hostile("hash_mismatch").client_hash != B.make_bundle()[1]
