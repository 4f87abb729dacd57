"""`::hot::file` over the command line's directory store, `::hot::media` built from a file's
metadata, `::hot::task` where the host has no task service, and the path rules of
`hostio/files.py`."""

import json

import pytest

from hostio.files import (
    DirectoryFileStore,
    FilePathError,
    content_type_for,
    normalize_path,
    normalize_prefix,
)
from hotlang.localhost import LocalHooks

from .helpers import run


@pytest.fixture
def hooks(tmp_path):
    return LocalHooks(files_dir=str(tmp_path / "files"))


def test_files_round_trip_in_a_directory(hooks, tmp_path):
    out = run(
        """
main fn () {
  meta ::hot::file/write-file("hot://notes/a.txt", "hello")
  bytes ::hot::file/write-file-bytes("notes/b.bin", Bytes("hi"))
  {
    meta: [meta.path, meta.size, meta.content-type, meta.storage-backend],
    text: ::hot::file/read-file("notes/a.txt"),
    raw: ::hot::file/read-file-bytes("notes/b.bin"),
    listed: ::hot::coll/map(::hot::file/list-files("notes/"), (f) { f.path }),
    exists: [::hot::file/file-exists("notes/a.txt"), ::hot::file/file-exists("nope")],
    deleted: [::hot::file/delete-file("notes/a.txt"), ::hot::file/delete-file("notes/a.txt")],
    missing: is-err(::hot::file/read-file("notes/a.txt")),
    info: is-err(::hot::file/file-info("nope"))
  }
}
""",
        hooks=hooks,
    )
    assert out.status == "succeeded", out.error
    assert out.result == {
        "meta": ["notes/a.txt", 5, "text/plain", "local"],
        "text": "hello",
        "raw": {"$type": "::hot::type/Bytes", "$val": [104, 105]},
        "listed": ["notes/a.txt", "notes/b.bin"],
        "exists": [True, False],
        "deleted": [True, False],
        "missing": True,
        "info": True,
    }
    assert (tmp_path / "files" / "data" / "notes" / "b.bin").read_bytes() == b"hi"


def test_bad_paths_and_contents_are_errs(hooks):
    out = run(
        """
main fn () {
  [
    ::hot::type/err-message(::hot::file/write-file("../escape.txt", "x")),
    ::hot::type/err-message(::hot::file/write-file("a.txt", 42)),
    ::hot::type/err-message(::hot::file/read-file(7)),
    ::hot::type/err-message(::hot::file/write-file-bytes("a.bin", "not bytes"))
  ]
}
""",
        hooks=hooks,
    )
    assert out.status == "succeeded", out.error
    assert "'..' is not allowed in a file path" in out.result[0]
    assert out.result[1:] == [
        "::hot::file/write-file: the contents must be a Str, got Int",
        "::hot::file/read-file: the path must be a Str, got Int",
        "::hot::file/write-file-bytes: the contents must be Bytes, got Str",
    ]


def test_a_file_that_is_not_text_is_an_err_for_read_file(hooks):
    out = run(
        """
main fn () {
  ::hot::file/write-file-bytes("x.bin", Bytes([255, 254]))
  ::hot::type/err-message(::hot::file/read-file("x.bin"))
}
""",
        hooks=hooks,
    )
    assert out.status == "succeeded" and "not valid UTF-8" in out.result


def test_media_is_built_from_file_metadata(hooks):
    out = run(
        """
main fn () {
  file ::hot::file/write-file-bytes("img/cat.png", Bytes([137, 80, 78, 71]))
  image ::hot::media/Media.Image(::hot::media/Image({file: file, width: 2, height: 1}))
  [::hot::media/is-image(image), untype(untype(image).file).content-type, untype(image).width]
}
""",
        hooks=hooks,
    )
    assert out.status == "succeeded", out.error
    assert out.result == [True, "image/png", 2]


def test_tasks_need_a_host_that_runs_them(hooks):
    out = run(
        """
work fn (x) { x }
main fn () { ::hot::task/start(::t/work, 1) }
""",
        hooks=hooks,
    )
    assert out.status == "failed" and "::hot::task is not available in this host" in out.error
    lambda_start = run("main fn () { ::hot::task/start((x) { x }) }\n")
    assert "named function of the program" in lambda_start.error


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("a.txt", "a.txt"),
        ("/docs//./a b.txt", "docs/a b.txt"),
        ("hot://x/y", "x/y"),
        ("résumé (2024).pdf", "résumé (2024).pdf"),
        ("a/.../b", "a/.../b"),
    ],
)
def test_path_rules_accept(raw, normalized):
    assert normalize_path(raw) == normalized


@pytest.mark.parametrize(
    "raw", ["", "/", ".", "..", "a/../b", "a\\b", "a?b", "a#b", "50%", "tab\there", "a" * 1025, 7]
)
def test_path_rules_refuse(raw):
    with pytest.raises(FilePathError):
        normalize_path(raw)


def test_prefixes_keep_their_trailing_slash_and_content_types_their_table():
    assert normalize_prefix("/reports/") == "reports/" and normalize_prefix("") == ""
    assert content_type_for("a.hot") == "text/x-hot"
    assert content_type_for("a.JSON") == "application/json"
    assert content_type_for("README") == "application/octet-stream"


def test_the_directory_store_keeps_ids_and_creation_times_across_writes(tmp_path):
    store = DirectoryFileStore(str(tmp_path))
    first = store.write("a/b.txt", b"one")
    second = store.write("a/b.txt", b"two!")
    assert second["file_id"] == first["file_id"] and second["size"] == 4
    assert second["created_at"] == first["created_at"]
    meta = json.loads((tmp_path / "meta" / "a" / "b.txt.json").read_text())
    assert meta["file_id"] == first["file_id"]
    with pytest.raises(FileNotFoundError):
        store.read("a/missing.txt")
