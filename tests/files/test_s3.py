"""Files on a real S3 endpoint (moto's server on loopback): objects under the bucket's
``files/`` prefix, streamed downloads, and S3's own multipart uploads."""

import hashlib

import boto3
import pytest

from files.models import FileUpload
from tests.s3 import s3_storage_settings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BUCKET = "hot-files"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
MIB = 1024 * 1024


@pytest.fixture
def s3(s3_endpoint, settings):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    storages = dict(settings.STORAGES)
    storages["files"] = s3_storage_settings(s3_endpoint, BUCKET, location="files")
    settings.STORAGES = storages
    yield client
    for upload in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        client.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def objects(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def put(api, path, body):
    return api.generic("PUT", f"/v1/files/upload/{path}", body, "text/csv")


def test_upload_download_replace_delete_on_s3(api, s3):
    file = put(api, "reports/q1.csv", b"a,b\n1,2\n").json()["data"]
    assert file["storage_backend"] == "s3" and file["content_type"] == "text/csv"
    (key,) = objects(s3)
    assert key.startswith("files/") and "reports" not in key  # stored under the app's own key

    response = api.get(f"/v1/files/{file['file_id']}/download")
    assert b"".join(response.streaming_content) == b"a,b\n1,2\n"

    replaced = put(api, "reports/q1.csv", b"a,b\n3,4\n").json()["data"]
    assert replaced["file_id"] == file["file_id"]
    assert len(objects(s3)) == 1 and objects(s3) != [key]

    assert api.delete(f"/v1/files/{file['file_id']}").status_code == 204
    assert objects(s3) == []


def test_multipart_upload_on_s3_uses_s3_multipart(api, s3, settings):
    settings.HOT_FILE_UPLOAD_MAX_BYTES = 6 * MIB  # one request carries less than the file
    parts = [b"a" * (5 * MIB), b"b" * (5 * MIB), b"c" * 1000]
    data = b"".join(parts)
    assert api.generic("PUT", "/v1/files/upload/big.bin", data).status_code == 413

    response = api.post(
        "/v1/files/uploads", {"path": "big.bin", "expected_size": len(data)}, format="json"
    )
    upload = response.json()["data"]
    assert upload["part_size"] == 6 * MIB
    (open_upload,) = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert open_upload["UploadId"] == FileUpload.objects.get().backend_upload_id
    for number, body in enumerate(parts, start=1):
        sent = api.generic("PUT", f"/v1/files/uploads/{upload['upload_id']}/{number}", body)
        assert sent.json()["data"]["etag"] == hashlib.md5(body).hexdigest()
    assert objects(s3) == []  # parts live inside S3's upload, not as objects

    file = api.post(f"/v1/files/uploads/{upload['upload_id']}/complete").json()["data"]
    assert file["size"] == len(data) and file["storage_backend"] == "s3"
    (key,) = objects(s3)
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(data)
    response = api.get(f"/v1/files/{file['file_id']}/download")
    assert hashlib.sha256(b"".join(response.streaming_content)).digest() == (
        hashlib.sha256(data).digest()
    )
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_aborted_multipart_upload_leaves_nothing_on_s3(api, s3):
    upload = api.post("/v1/files/uploads", {"path": "x.bin"}, format="json").json()["data"]
    api.generic("PUT", f"/v1/files/uploads/{upload['upload_id']}/1", b"x" * 100)
    assert api.delete(f"/v1/files/uploads/{upload['upload_id']}").status_code == 204
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert objects(s3) == []
