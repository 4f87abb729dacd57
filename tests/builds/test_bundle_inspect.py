"""builds.bundle.inspect_bundle: the one entry point, on real and hostile bundles."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from builds.bundle import BundleError, BundleInfo, BundleLimits, inspect_bundle
from tests import bundles as B

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def default_bundle() -> tuple[bytes, str]:
    return B.make_bundle()


# -- real bundles -------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["zstd", "deflate", "stored"])
def test_inspects_a_cli_style_bundle(compression):
    data, bundle_hash = B.make_bundle(compression=compression, ctx_requirements=["mail.api.key"])
    info = inspect_bundle(data, client_hash=bundle_hash)
    assert isinstance(info, BundleInfo)
    assert info.hash_matched == "bundle_hash"
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size == len(data)
    assert info.bundle_hash == bundle_hash
    assert info.has_manifest
    assert info.manifest is not None and info.manifest.project_name == "app"
    assert info.engine_version == "2.6.9"
    assert info.context_requirements == ["mail.api.key"]
    assert info.files[B.DEFAULT_SOURCE_PATH] == B.blake3_hex(B.DEFAULT_SOURCE.encode())
    assert set(info.files) == {"manifest.hot", B.DEFAULT_SOURCE_PATH, "docs/project/docs.json"}
    assert info.sources == {B.DEFAULT_SOURCE_PATH: B.DEFAULT_SOURCE}
    assert info.warnings == []
    assert info.manifest_consistent
    assert info.entry_count == 3
    assert info.uncompressed_size == sum(
        len(x) for x in (B.DEFAULT_SOURCE.encode(), b'{"namespaces": []}')
    ) + len(
        B.to_hot(
            B.manifest_data(
                {B.DEFAULT_SOURCE_PATH: B.DEFAULT_SOURCE.encode()},
                ctx_requirements=["mail.api.key"],
            )
        ).encode()
    )

    user = [h for h in info.event_handlers if not h.system]
    assert [(h.event_type, h.ns, h.var, h.line) for h in user] == [
        ("user.signup", "::app::main", "on-signup", 4)
    ]
    assert len([h for h in info.event_handlers if h.system]) == 4
    (s,) = info.schedules
    assert (s.cron, s.ns, s.var, s.file, s.line) == (
        "every day at 2:00 am",
        "::app::main",
        "nightly-digest",
        B.DEFAULT_SOURCE_PATH,
        13,
    )
    assert s.normalized == "0 0 2 * * * *"


def test_accepts_sha256_of_the_zip(default_bundle):
    data, _ = default_bundle
    sha = hashlib.sha256(data).hexdigest()
    assert inspect_bundle(data, client_hash=sha).hash_matched == "sha256"
    # Case and surrounding whitespace do not matter.
    assert inspect_bundle(data, client_hash=f"  {sha.upper()}\n").hash_matched == "sha256"


def test_no_client_hash_means_no_check(default_bundle):
    data, _ = default_bundle
    assert inspect_bundle(data).hash_matched is None


def test_hash_mismatch_names_both_expected_values(default_bundle):
    data, bundle_hash = default_bundle
    with pytest.raises(BundleError) as info:
        inspect_bundle(data, client_hash="0" * 64)
    err = info.value
    assert err.code == "hash_mismatch"
    assert hashlib.sha256(data).hexdigest() in err.message
    assert bundle_hash in err.message
    with pytest.raises(BundleError):
        inspect_bundle(data, client_hash="")


def test_reads_paths_file_objects_and_bytes(tmp_path, default_bundle):
    data, bundle_hash = default_bundle
    path = tmp_path / "app.hot.zip"
    path.write_bytes(data)
    from_path = inspect_bundle(path, client_hash=bundle_hash)
    from_str = inspect_bundle(str(path))
    fh = io.BytesIO(data)
    from_file = inspect_bundle(fh)
    assert fh.tell() == 0  # left at the start, ready to be stored
    assert from_path.sha256 == from_str.sha256 == from_file.sha256
    assert from_path.files == from_file.files
    with open(path, "rb") as real_file:
        assert inspect_bundle(real_file).bundle_hash == bundle_hash
        assert not real_file.closed  # the caller's file stays open


def test_dependencies_and_resources_are_hashed_like_the_cli():
    files = {
        "hot/src/app/main.hot": B.DEFAULT_SOURCE,
        "hot/src/app/util.hot": "::app::util ns\nhelper fn (x) { x }\n",
        "hot/pkg/hot.dev/demo-pkg/src/main.hot": "::demo::pkg ns\nhi fn () { 1 }\n",
    }
    resources = {"prompts/system.md": "You are helpful.", "data/a.csv": "a,b\n1,2\n"}
    data, bundle_hash = B.make_bundle(
        files, B.DEFAULT_HANDLERS, B.DEFAULT_SCHEDULES, resources=resources
    )
    expected = B.compute_bundle_hash(
        [files[p].encode() for p in sorted(p for p in files if p.startswith("hot/src/"))]
        + [files["hot/pkg/hot.dev/demo-pkg/src/main.hot"].encode()],
        [(r, resources[r].encode()) for r in sorted(resources)],
    )
    assert bundle_hash == expected
    info = inspect_bundle(data, client_hash=bundle_hash)
    assert info.hash_matched == "bundle_hash"
    assert info.bundle_hash == expected
    assert "resources/prompts/system.md" in info.files
    assert set(info.sources) == set(files)


def test_tampered_source_is_noticed():
    bad = B.hostile("tampered_source")
    # The uploader's BLAKE3 hash describes the original files: refused, with the reason.
    with pytest.raises(BundleError) as info:
        inspect_bundle(bad.data, client_hash=bad.client_hash)
    assert info.value.code == "hash_mismatch"
    assert "hot/src/app/main.hot" in info.value.message
    # With the zip's SHA-256 it is accepted, but the disagreement is reported.
    accepted = inspect_bundle(bad.data, client_hash=hashlib.sha256(bad.data).hexdigest())
    assert accepted.hash_matched == "sha256"
    assert not accepted.manifest_consistent
    assert any("hot/src/app/main.hot" in w for w in accepted.warnings)


def test_matching_bundle_hash_with_unlisted_source_is_refused():
    extra = B.RawEntry("hot/src/app/backdoor.hot", b"::app::backdoor ns\n")
    data, bundle_hash = B.make_bundle(extra_entries=[extra])
    info = inspect_bundle(data)
    # The unlisted file is not covered by the hash, so the hash alone still matches...
    assert info.bundle_hash == bundle_hash
    # ...but it is not accepted as proof of the bundle's contents.
    with pytest.raises(BundleError) as err:
        inspect_bundle(data, client_hash=bundle_hash)
    assert err.value.code == "hash_mismatch"
    assert "backdoor.hot" in err.value.message


def test_manifest_recorded_hash_disagreement_is_a_warning():
    text = B.to_hot(
        B.manifest_data({B.DEFAULT_SOURCE_PATH: B.DEFAULT_SOURCE.encode()}, bundle_hash="f" * 64)
    )
    data, bundle_hash = B.make_bundle(manifest_text=text)
    info = inspect_bundle(data, client_hash=bundle_hash)
    assert info.hash_matched == "bundle_hash"  # recomputed from the files, which agree
    assert any("f" * 64 in w for w in info.warnings)


def test_bundle_without_manifest_falls_back_to_scanning():
    data, bundle_hash = B.make_bundle(include_manifest=False)
    info = inspect_bundle(data, client_hash=bundle_hash)
    assert not info.has_manifest
    assert info.manifest is None
    assert info.hash_matched == "bundle_hash"
    assert info.engine_version is None
    assert [(h.event_type, h.fn) for h in info.event_handlers] == [
        ("user.signup", "::app::main/on-signup")
    ]
    assert [(s.cron, s.fn, s.normalized) for s in info.schedules] == [
        ("every day at 2:00 am", "::app::main/nightly-digest", "0 0 2 * * * *")
    ]
    assert any("manifest.hot" in w for w in info.warnings)


def test_invalid_cron_without_manifest_names_the_function():
    source = B.DEFAULT_SOURCE.replace("every day at 2:00 am", "99 * * * *")
    data, _ = B.make_bundle({B.DEFAULT_SOURCE_PATH: source}, include_manifest=False)
    with pytest.raises(BundleError) as info:
        inspect_bundle(data)
    assert info.value.code == "invalid_cron"
    assert "::app::main/nightly-digest" in info.value.message
    assert "99 * * * *" in info.value.message


def test_manifest_limits_are_parameters():
    data, _ = B.make_bundle()
    with pytest.raises(BundleError) as info:
        inspect_bundle(data, BundleLimits(max_manifest_bytes=100))
    assert info.value.code == "manifest_too_large"
    with pytest.raises(BundleError) as info:
        inspect_bundle(data, BundleLimits(max_manifest_depth=3))
    assert info.value.code == "manifest_too_deep"
    with pytest.raises(BundleError) as info:
        inspect_bundle(data, BundleLimits(max_manifest_values=10))
    assert info.value.code == "manifest_too_large"


def test_source_text_is_bounded():
    files = {f"hot/src/app/m{i}.hot": f"::app::m{i} ns\n" + "x 1\n" * 100 for i in range(5)}
    data, _ = B.make_bundle(files)
    info = inspect_bundle(data, BundleLimits(max_source_bytes=1_000))
    assert 0 < len(info.sources) < 5
    assert sum(len(t.encode()) for t in info.sources.values()) <= 1_000
    assert any("not kept" in w for w in info.warnings)
    assert len([p for p in info.files if p.startswith("hot/src/")]) == 5  # all still hashed


def test_non_utf8_source_is_a_warning():
    data, _ = B.make_bundle({"hot/src/app/bad.hot": b'::app::bad ns\nx "\xff"\n'})
    info = inspect_bundle(data)
    assert "\ufffd" in info.sources["hot/src/app/bad.hot"]
    assert any("UTF-8" in w for w in info.warnings)


def test_default_limits_are_hots():
    limits = BundleLimits()
    assert limits.max_entries == 10_000
    assert limits.max_file_bytes == limits.max_total_bytes == 100 * 1024 * 1024
    assert limits.max_compression_ratio == 1_000
    assert (limits.max_path_bytes, limits.max_path_depth) == (1_024, 32)
    assert (limits.max_manifest_bytes, limits.max_manifest_depth) == (8 * 1024 * 1024, 64)


# -- hostile bundles ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(B.HOSTILE))
def test_hostile_bundles_are_refused(name):
    bad = B.hostile(name)
    with pytest.raises(BundleError) as info:
        inspect_bundle(bad.data, client_hash=bad.client_hash)
    assert info.value.code == bad.code, info.value.message
    assert info.value.message
    assert len(info.value.message) < 600


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("path_traversal", "hot/src/../../../etc/cron.d/evil"),
        ("absolute_path", "/etc/passwd"),
        ("symlink", "hot/src/app/link.hot"),
        ("compression_bomb", "resources/zeros.bin"),
        ("duplicate_names", "hot/src/app/main.hot"),
        ("invalid_cron", "::app::main/nightly-digest"),
        ("invalid_cron", "every blue moon"),
        ("malformed_manifest", "manifest.hot:5:"),
        ("deeply_nested_manifest", "manifest.hot:"),
    ],
)
def test_hostile_messages_name_the_culprit(name, needle):
    bad = B.hostile(name)
    with pytest.raises(BundleError) as info:
        inspect_bundle(bad.data, client_hash=bad.client_hash)
    assert needle in info.value.message


# -- resource use -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["resources/blob.bin", "hot/src/app/huge.hot"])
def test_large_bundle_is_streamed_not_loaded(tmp_path, name):
    size = 40 * 1024 * 1024
    path = tmp_path / "big.hot.zip"
    data, _ = B.make_bundle(extra_entries=[B.RawEntry(name, os.urandom(size), B.STORED)])
    path.write_bytes(data)
    del data
    tracemalloc.start()
    try:
        # A source file beyond the text budget is hashed but not kept either.
        info = inspect_bundle(path, BundleLimits(max_source_bytes=1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.files[name]
    assert name not in info.sources
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"


def test_does_not_import_django():
    code = (
        "import sys, builds.bundle, builds.bundle.cron, builds.bundle.scan;"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
