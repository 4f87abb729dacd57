"""builds.bundle.hashing: SHA-256 of the zip, the CLI's BLAKE3 bundle hash, manifest checks."""

from __future__ import annotations

import hashlib
import io

import blake3

from builds.bundle.hashing import (
    ListedFile,
    blake3_hex,
    bundle_hash,
    check_manifest_hashes,
    default_bundle_order,
    sha256_file,
)

# BLAKE3 of the empty input, from the BLAKE3 specification's test vectors.
EMPTY_BLAKE3 = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


def test_sha256_file_streams_path_and_file_object(tmp_path):
    data = bytes(range(256)) * 10_000  # > 1 MiB, several chunks
    path = tmp_path / "b.zip"
    path.write_bytes(data)
    expected = (hashlib.sha256(data).hexdigest(), len(data))
    assert sha256_file(path) == expected
    assert sha256_file(str(path)) == expected
    fh = io.BytesIO(data)
    fh.seek(123)
    assert sha256_file(fh) == expected
    assert fh.tell() == 0  # left ready for the next reader


def test_blake3_hex_is_lowercase_64_hex():
    assert blake3_hex(b"") == EMPTY_BLAKE3
    digest = blake3_hex(b"::app::main ns\n")
    assert len(digest) == 64 and digest == digest.lower()


def test_bundle_hash_byte_format():
    a, b = blake3_hex(b"first"), blake3_hex(b"second")
    # Per-file hex digests as ASCII, concatenated, no separators, paths not included.
    assert bundle_hash([a, b]) == blake3.blake3((a + b).encode("ascii")).hexdigest()
    # Order matters.
    assert bundle_hash([b, a]) != bundle_hash([a, b])
    # Resources add their relative path, then their digest.
    r = blake3_hex(b"You are helpful.")
    expected = blake3.blake3((a + "prompts/system.md" + r).encode()).hexdigest()
    assert bundle_hash([a], [("prompts/system.md", r)]) == expected
    # No files at all is still a well-defined hash.
    assert bundle_hash([]) == EMPTY_BLAKE3


def test_default_order_without_manifest():
    paths = [
        "manifest.hot",
        "hot/src/z.hot",
        "hot/pkg/dep/src/a.hot",
        "hot/src/a.hot",
        "resources/b.txt",
        "resources/a.txt",
        "docs/project/docs.json",
    ]
    sources, resources = default_bundle_order(paths)
    assert sources == ["hot/src/a.hot", "hot/src/z.hot", "hot/pkg/dep/src/a.hot"]
    assert resources == ["resources/a.txt", "resources/b.txt"]


def _setup():
    contents = {
        "hot/src/a.hot": b"::a ns\n",
        "hot/pkg/dep/src/d.hot": b"::d ns\n",
        "resources/p.md": b"prompt",
        "docs/project/docs.json": b"{}",
    }
    actual = {path: blake3_hex(data) for path, data in contents.items()}
    sizes = {path: len(data) for path, data in contents.items()}
    sources = [
        ListedFile("hot/src/a.hot", actual["hot/src/a.hot"], 7),
        ListedFile("hot/pkg/dep/src/d.hot", actual["hot/pkg/dep/src/d.hot"], 7),
    ]
    resources = [ListedFile("p.md", actual["resources/p.md"], 6)]
    return actual, sizes, sources, resources


def test_consistent_manifest_recomputes_the_cli_hash():
    actual, sizes, sources, resources = _setup()
    check = check_manifest_hashes(sources, resources, actual, sizes)
    assert not check.problems
    expected = bundle_hash(
        [actual["hot/src/a.hot"], actual["hot/pkg/dep/src/d.hot"]],
        [("p.md", actual["resources/p.md"])],
    )
    assert check.bundle_hash == expected


def test_manifest_hash_mismatch_is_reported_and_hash_uses_real_contents():
    actual, sizes, sources, resources = _setup()
    forged = ListedFile("hot/src/a.hot", blake3_hex(b"original"), 7)
    check = check_manifest_hashes([forged, sources[1]], resources, actual, sizes)
    assert check.problems
    assert "hot/src/a.hot" in check.problems[0]
    # The recomputed hash reflects what is really in the bundle, not the manifest's claim.
    assert check.bundle_hash == check_manifest_hashes(sources, resources, actual).bundle_hash


def test_missing_listed_file_makes_hash_uncomputable():
    actual, sizes, sources, resources = _setup()
    del actual["hot/pkg/dep/src/d.hot"]
    check = check_manifest_hashes(sources, resources, actual, sizes)
    assert check.bundle_hash is None
    assert "missing" in check.problems[0]


def test_unlisted_sources_and_resources_are_problems():
    actual, sizes, sources, resources = _setup()
    actual["hot/src/extra.hot"] = blake3_hex(b"::extra ns\n")
    actual["resources/extra.txt"] = blake3_hex(b"x")
    check = check_manifest_hashes(sources, resources, actual, sizes)
    assert len(check.problems) == 2
    assert all("not listed" in p for p in check.problems)


def test_size_mismatch_is_a_problem():
    actual, sizes, sources, resources = _setup()
    sizes["hot/src/a.hot"] = 8
    check = check_manifest_hashes(sources, resources, actual, sizes)
    assert check.problems and "8" in check.problems[0]


def test_uppercase_manifest_hashes_are_accepted():
    actual, sizes, sources, resources = _setup()
    upper = [ListedFile(s.path, s.hash.upper(), s.size) for s in sources]
    assert not check_manifest_hashes(upper, resources, actual, sizes).problems
