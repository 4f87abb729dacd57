"""Build storage on a real S3 endpoint (moto's server on loopback)."""

import hashlib

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Build
from builds.services import deploy_execute, deploy_request
from tests import bundles
from tests.s3 import s3_storage_settings

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

BUCKET = "hot-builds"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@pytest.fixture
def s3_storage(s3_endpoint, settings):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.HOT_S3_BUCKET = BUCKET
    storages = dict(settings.STORAGES)
    storages["builds"] = s3_storage_settings(s3_endpoint, BUCKET)
    settings.STORAGES = storages
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def objects(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_upload_download_deploy_delete_on_s3(
    api, project, s3_storage, django_capture_on_commit_callbacks
):
    data, bundle_hash = bundles.make_bundle()
    form = {"file": SimpleUploadedFile("b.zip", data), "hash": bundle_hash}
    body = api.post("/v1/projects/billing/builds", form, format="multipart").json()["data"]
    assert body["storage_backend"] == "s3"
    key = body["storage_path"].removeprefix(f"s3://{BUCKET}/")
    assert body["storage_path"].startswith(f"s3://{BUCKET}/") and objects(s3_storage) == [key]

    download = api.get(f"/v1/projects/billing/builds/{body['build_id']}/download")
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == (
        hashlib.sha256(data).hexdigest()
    )

    build = Build.objects.get(pk=body["build_id"])
    with django_capture_on_commit_callbacks(execute=False):
        deploy_request(build=build)
    assert deploy_execute(build_id=build.pk, sequence=1) == "deployed"

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/v1/projects/billing").status_code == 204
    assert objects(s3_storage) == []


def test_rejected_upload_leaves_no_object(api, project, s3_storage):
    hostile = bundles.hostile("symlink")
    form = {"file": SimpleUploadedFile("b.zip", hostile.data), "hash": hostile.client_hash}
    assert api.post("/v1/projects/billing/builds", form, format="multipart").status_code == 400
    assert objects(s3_storage) == []
