"""Files over HTTP: single-request uploads, reads, downloads, paths, quota, multipart uploads."""

import hashlib

import pytest
from django.utils import timezone

from files import storage
from files.models import File, FileUpload, FileUploadPart
from files.services import uploads_expire
from tests.s3 import listed

# Objects are removed once deletions commit: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024


def put(api, path, body: bytes, content_type=None):
    """PUT raw bytes (without a Content-Type, the test client says application/octet-stream)."""
    return api.generic(
        "PUT", f"/v1/files/upload/{path}", body, content_type or "application/octet-stream"
    )


def stored_objects() -> list[str]:
    return listed(storage.files_storage())


def download(api, file_id) -> bytes:
    response = api.get(f"/v1/files/{file_id}/download")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_upload_get_list_download_delete(api):
    response = put(api, "data/config.json", b'{"a": true}', "application/json")
    assert response.status_code == 200, response.json()
    file = response.json()["data"]
    assert file["path"] == "data/config.json" and file["size"] == 11
    assert file["etag"] == hashlib.md5(b'{"a": true}').hexdigest()
    assert file["content_type"] == "application/json" and file["storage_backend"] == "local"
    assert file["created_by_run_id"] is None

    put(api, "data/b.txt", b"bee")
    put(api, "other/c.bin", b"\x00\x01")
    listed = api.get("/v1/files").json()
    assert listed["pagination"]["total"] == 3
    assert [item["path"] for item in listed["data"]] == [
        "data/b.txt",
        "data/config.json",
        "other/c.bin",
    ]
    assert [f["path"] for f in api.get("/v1/files?prefix=data/").json()["data"]] == [
        "data/b.txt",
        "data/config.json",
    ]
    assert api.get("/v1/files?prefix=/data/b").json()["pagination"]["total"] == 1

    got = api.get(f"/v1/files/{file['file_id']}").json()["data"]
    assert got == file
    response = api.get(f"/v1/files/{file['file_id']}/download")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="config.json"'
    assert response["Content-Length"] == "11"
    assert b"".join(response.streaming_content) == b'{"a": true}'

    assert api.delete(f"/v1/files/{file['file_id']}").status_code == 204
    assert api.get(f"/v1/files/{file['file_id']}").status_code == 404
    assert api.delete(f"/v1/files/{file['file_id']}").status_code == 404
    assert len(stored_objects()) == 2


def test_content_type_from_the_path_when_not_declared(api):
    assert put(api, "b.txt", b"bee").json()["data"]["content_type"] == "text/plain"
    assert put(api, "x.hot", b"::a ns").json()["data"]["content_type"] == "text/x-hot"
    binary = put(api, "a.png", b"x", "application/octet-stream").json()["data"]
    assert binary["content_type"] == "image/png"
    declared = put(api, "notes", b"x", "text/markdown; charset=utf-8").json()["data"]
    assert declared["content_type"] == "text/markdown; charset=utf-8"
    assert put(api, "blob", b"x", "not a type").json()["data"]["content_type"] == (
        "application/octet-stream"
    )


def test_overwrite_keeps_the_id_and_replaces_the_bytes(api):
    first = put(api, "report.csv", b"a,b\n").json()["data"]
    second = put(api, "report.csv", b"a,b\n1,2\n").json()["data"]
    assert second["file_id"] == first["file_id"] and second["size"] == 8
    assert second["created_at"] == first["created_at"]
    assert download(api, first["file_id"]) == b"a,b\n1,2\n"
    assert len(stored_objects()) == 1  # the replaced object is gone


def test_unknown_ids_are_404(api, other_api):
    file = put(api, "mine.txt", b"mine").json()["data"]
    assert other_api.get(f"/v1/files/{file['file_id']}").status_code == 404
    assert other_api.get(f"/v1/files/{file['file_id']}/download").status_code == 404
    assert other_api.delete(f"/v1/files/{file['file_id']}").status_code == 404
    assert api.get("/v1/files/not-a-uuid").status_code == 404
    assert other_api.get("/v1/files").json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        ("hot://docs/a.txt", "docs/a.txt"),
        ("./docs//./a.txt", "docs/a.txt"),
        ("%2Fdocs/a.txt", "docs/a.txt"),
        ("r%C3%A9sum%C3%A9%20(2024).pdf", "résumé (2024).pdf"),
    ],
)
def test_paths_are_normalized(api, path, stored):
    assert put(api, path, b"x").json()["data"]["path"] == stored


@pytest.mark.parametrize(
    "path",
    ["../etc/passwd", "a/../../b", "a/..", "a%5Cb", "a%00b", "tab%09here", "q%3Fmark", "%2F"],
)
def test_bad_paths_are_400(api, path):
    response = put(api, path, b"x")
    # An empty path does not reach the upload route at all.
    assert response.status_code in (400, 404, 405), response.content
    assert File.objects.count() == 0 and stored_objects() == []


def test_a_too_long_path_is_400(api):
    response = put(api, "a/" * 600 + "b", b"x")
    assert response.status_code == 400
    assert "at most" in response.json()["error"]["message"]


def test_request_over_the_upload_limit_is_413_and_keeps_nothing(api, settings):
    settings.HOT_FILE_UPLOAD_MAX_BYTES = 1000
    response = put(api, "big.bin", b"x" * 1001)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert File.objects.count() == 0 and stored_objects() == []


def test_storage_quota_is_413_and_counts_files(api, environment):
    environment.storage_limit_bytes = 100
    environment.save()
    assert put(api, "a.bin", b"x" * 60).status_code == 200
    refused = put(api, "b.bin", b"x" * 60)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "storage_quota_exceeded"
    # Replacing a file counts only the difference.
    assert put(api, "a.bin", b"y" * 100).status_code == 200
    assert api.get("/v1/env/quota").json()["data"]["storage_used_percent"] == 100
    assert stored_objects() and len(stored_objects()) == 1


def test_files_count_in_the_org_usage(api):
    put(api, "a.bin", b"x" * 1234)
    usage = api.get("/v1/org/usage").json()["data"]
    assert usage["usage"]["file_storage_bytes"] >= 1234


# --- multipart uploads -----------------------------------------------------------------------


@pytest.fixture
def small_parts(settings):
    settings.HOT_FILE_UPLOAD_MAX_BYTES = 2 * MIB
    settings.HOT_FILE_PART_MIN_BYTES = MIB
    settings.HOT_FILE_PART_SIZE = MIB


def initiate(api, **body):
    response = api.post("/v1/files/uploads", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def send_part(api, upload_id, number, body: bytes):
    return api.generic("PUT", f"/v1/files/uploads/{upload_id}/{number}", body)


def test_multipart_upload_of_a_file_larger_than_one_request(api, small_parts):
    parts = [bytes([n]) * MIB for n in range(1, 4)] + [b"tail"]
    data = b"".join(parts)
    upload = initiate(api, path="videos/big.mp4", expected_size=len(data))
    assert upload["part_size"] == MIB and upload["parts_expected"] == 4
    assert upload["path"] == "videos/big.mp4" and upload["expires_at"].endswith("Z")
    # Parts in any order; one sent twice replaces the first.
    for number in (3, 1, 4, 2):
        sent = send_part(api, upload["upload_id"], number, parts[number - 1])
        assert sent.status_code == 200, sent.json()
    resent = send_part(api, upload["upload_id"], 2, parts[1]).json()["data"]
    assert resent == {
        "part_number": 2,
        "size": MIB,
        "etag": hashlib.md5(parts[1]).hexdigest(),
    }
    file = api.post(f"/v1/files/uploads/{upload['upload_id']}/complete").json()["data"]
    assert file["path"] == "videos/big.mp4" and file["size"] == len(data)
    assert file["content_type"] == "video/mp4" and file["etag"].endswith("-4")
    assert download(api, file["file_id"]) == data
    assert FileUploadPart.objects.count() == 0
    assert len(stored_objects()) == 1  # the parts are gone, the file remains
    again = api.post(f"/v1/files/uploads/{upload['upload_id']}/complete")
    assert again.status_code == 409 and again.json()["error"]["code"] == "upload_not_pending"


def test_multipart_complete_refuses_gaps_sizes_and_small_parts(api, small_parts):
    upload = initiate(api, path="x.bin")
    complete = f"/v1/files/uploads/{upload['upload_id']}/complete"
    empty = api.post(complete)
    assert empty.status_code == 409 and empty.json()["error"]["code"] == "upload_incomplete"
    send_part(api, upload["upload_id"], 1, b"a" * MIB)
    send_part(api, upload["upload_id"], 3, b"c")
    gap = api.post(complete)
    assert gap.status_code == 409 and "Parts missing: 2" in gap.json()["error"]["message"]
    send_part(api, upload["upload_id"], 2, b"b")  # too small: not the last part
    small = api.post(complete)
    assert small.status_code == 400 and small.json()["error"]["code"] == "part_too_small"

    sized = initiate(api, path="y.bin", expected_size=10)
    send_part(api, sized["upload_id"], 1, b"short")
    mismatch = api.post(f"/v1/files/uploads/{sized['upload_id']}/complete")
    assert mismatch.status_code == 409 and "10 were expected" in mismatch.json()["error"]["message"]


def test_multipart_part_numbers_limits_and_abort(api, small_parts):
    upload = initiate(api, path="x.bin", expected_size=3 * MIB)
    for bad in ("0", "10001", "abc", "-1"):
        refused = send_part(api, upload["upload_id"], bad, b"x")
        assert refused.status_code == 400, bad
    too_large = send_part(api, upload["upload_id"], 1, b"x" * (2 * MIB + 1))
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "part_too_large"
    too_small = send_part(api, upload["upload_id"], 1, b"x" * 10)  # 3 parts expected
    assert too_small.status_code == 400 and too_small.json()["error"]["code"] == "part_too_small"
    assert send_part(api, upload["upload_id"], 1, b"x" * MIB).status_code == 200
    assert len(stored_objects()) == 1

    assert api.delete(f"/v1/files/uploads/{upload['upload_id']}").status_code == 204
    assert stored_objects() == []
    late = send_part(api, upload["upload_id"], 2, b"x" * MIB)
    assert late.status_code == 409 and late.json()["error"]["code"] == "upload_not_pending"
    assert api.delete(f"/v1/files/uploads/{upload['upload_id']}").status_code == 409
    assert api.delete("/v1/files/uploads/00000000-0000-0000-0000-000000000000").status_code == 404


def test_multipart_initiate_checks_path_size_and_quota(api, environment, settings):
    assert api.post("/v1/files/uploads", {"path": "../x"}, format="json").status_code == 400
    assert api.post("/v1/files/uploads", {}, format="json").status_code == 400
    settings.HOT_FILE_MAX_BYTES = 1000
    too_big = api.post("/v1/files/uploads", {"path": "x", "expected_size": 1001}, format="json")
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    environment.storage_limit_bytes = 100
    environment.save()
    over = api.post("/v1/files/uploads", {"path": "x", "expected_size": 101}, format="json")
    assert over.status_code == 413 and over.json()["error"]["code"] == "storage_quota_exceeded"


def test_parts_count_in_the_quota_until_the_upload_ends(api, environment, small_parts):
    environment.storage_limit_bytes = MIB + 100
    environment.save()
    upload = initiate(api, path="x.bin")
    assert send_part(api, upload["upload_id"], 1, b"x" * MIB).status_code == 200
    refused = put(api, "other.bin", b"y" * 200)
    assert refused.status_code == 413
    api.post(f"/v1/files/uploads/{upload['upload_id']}/complete")
    assert put(api, "other.bin", b"y" * 50).status_code == 200


def test_expired_uploads_are_aborted(api, small_parts):
    upload = initiate(api, path="x.bin")
    send_part(api, upload["upload_id"], 1, b"x" * MIB)
    FileUpload.objects.update(expires_at=timezone.now())
    assert uploads_expire() == 1
    assert FileUpload.objects.get().status == "aborted" and stored_objects() == []
    late = api.post(f"/v1/files/uploads/{upload['upload_id']}/complete")
    assert late.status_code == 409
