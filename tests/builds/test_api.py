"""Builds over HTTP: upload checks, idempotency, reads, download, hostile bundles."""

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from builds.models import Build, EventHandler, Schedule
from builds.storage import build_storage
from tests import bundles
from tests.s3 import listed

pytestmark = pytest.mark.django_db

URL = "/v1/projects/billing/builds"


def upload(api, data: bytes, client_hash: str | None = None, **fields):
    form = {
        "file": SimpleUploadedFile("build.hot.zip", data, "application/zip"),
        "hash": client_hash or hashlib.sha256(data).hexdigest(),
        **fields,
    }
    return api.post(URL, form, format="multipart")


def stored_files() -> list[str]:
    return listed(build_storage())


@pytest.fixture
def bundle():
    data, bundle_hash = bundles.make_bundle()
    return data, bundle_hash


@pytest.mark.parametrize("compression", ["zstd", "deflate", "stored"])
def test_upload_accepts_cli_bundles(api, project, compression):
    data, bundle_hash = bundles.make_bundle(compression=compression)
    response = upload(api, data, bundle_hash)
    assert response.status_code == 201, response.json()
    body = response.json()["data"]
    assert body["hash"] == bundle_hash and body["size"] == len(data)
    assert body["project_id"] == str(project.id)
    assert body["storage_backend"] == "local"
    assert body["storage_path"].startswith("file://") and "/tmp" not in body["storage_path"]
    assert response["X-Build-Exists"] == "false"
    build = Build.objects.get(pk=body["build_id"])
    assert build.sha256 == hashlib.sha256(data).hexdigest()
    assert build.bundle_hash == bundle_hash
    assert EventHandler.objects.filter(build=build, event_type="user.signup").count() == 1
    assert Schedule.objects.filter(build=build, var="nightly-digest").count() == 1


def test_upload_accepts_sha256_of_the_zip(api, project, bundle):
    data, _ = bundle
    assert upload(api, data).status_code == 201


def test_wrong_hash_is_400_naming_expected_values(api, project, bundle):
    data, bundle_hash = bundle
    response = upload(api, data, "0" * 64)
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert hashlib.sha256(data).hexdigest() in message or bundle_hash in message
    assert not Build.objects.exists() and stored_files() == []


def test_download_is_byte_for_byte(api, project, bundle):
    data, bundle_hash = bundle
    build_id = upload(api, data, bundle_hash).json()["data"]["build_id"]
    response = api.get(f"{URL}/{build_id}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert f"{uuid.UUID(build_id).hex}.hot.zip" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == data


def test_reads(api, project, bundle):
    data, bundle_hash = bundle
    build_id = upload(api, data, bundle_hash).json()["data"]["build_id"]
    one = api.get(f"{URL}/{build_id}").json()["data"]
    assert one["build_type"] == "bundle" and one["deployed"] is False
    assert one["runtime_status"] == "pending" and one["active"] is True
    assert {"deployment_sequence", "created_at", "updated_at", "storage_path"} <= set(one)
    listed = api.get(URL).json()
    assert listed["pagination"]["total"] == 1
    everywhere = api.get("/v1/builds").json()["data"]
    assert everywhere[0]["project_name"] == "billing"
    assert api.get(f"{URL}/deployed").status_code == 404
    assert api.get(f"{URL}/live").json()["error"]["message"] == "No live build for this project"
    assert api.get(f"{URL}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{URL}/not-a-uuid").status_code == 404
    assert api.get("/v1/projects/billing/event-handlers").json()["data"] == []
    assert api.get("/v1/projects/billing/schedules").json()["data"] == []


def test_idempotent_upload_with_build_id(api, project, bundle):
    data, bundle_hash = bundle
    build_id = str(uuid.uuid4())
    first = upload(api, data, bundle_hash, build_id=build_id)
    assert first.status_code == 201
    again = upload(api, data, bundle_hash, build_id=build_id)
    assert again.status_code == 200
    assert again["X-Build-Exists"] == "true"
    assert again.json()["data"]["build_id"] == build_id
    assert Build.objects.count() == 1 and len(stored_files()) == 1


def test_build_id_with_other_content_conflicts(api, project, bundle):
    data, bundle_hash = bundle
    build_id = str(uuid.uuid4())
    upload(api, data, bundle_hash, build_id=build_id)
    other, other_hash = bundles.make_bundle(compression="deflate")
    response = upload(api, other, other_hash, build_id=build_id)
    assert response.status_code == 409
    assert Build.objects.count() == 1 and len(stored_files()) == 1


def test_build_id_of_another_project_conflicts(api, project, environment, bundle):
    data, bundle_hash = bundle
    build_id = str(uuid.uuid4())
    upload(api, data, bundle_hash, build_id=build_id)
    api.post("/v1/projects", {"name": "second"}, format="json")
    form = {
        "file": SimpleUploadedFile("b.zip", data),
        "hash": bundle_hash,
        "build_id": build_id,
    }
    response = api.post("/v1/projects/second/builds", form, format="multipart")
    assert response.status_code == 409


@pytest.mark.parametrize("name", sorted(bundles.HOSTILE))
def test_hostile_bundles_leave_nothing(api, project, name, settings):
    hostile = bundles.hostile(name)
    response = upload(api, hostile.data, hostile.client_hash)
    assert response.status_code in (400, 413), (name, response.json())
    error = response.json()["error"]
    assert error["code"] in ("bad_request", "payload_too_large")
    assert error["message"]
    assert not Build.objects.exists()
    assert stored_files() == []


def test_invalid_cron_names_the_function(api, project):
    hostile = bundles.hostile("invalid_cron")
    message = upload(api, hostile.data, hostile.client_hash).json()["error"]["message"]
    assert "::" in message  # names the ns/var


def test_size_limit_is_413(api, project, settings, bundle):
    data, bundle_hash = bundle
    settings.HOT_BUILD_MAX_BYTES = len(data) - 1
    response = upload(api, data, bundle_hash)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Build.objects.exists() and stored_files() == []


def test_storage_quota_is_413_with_its_own_code(api, project, environment, bundle):
    data, bundle_hash = bundle
    environment.storage_limit_bytes = len(data) + 10
    environment.save()
    assert upload(api, data, bundle_hash).status_code == 201
    response = upload(api, data, bundle_hash)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "storage_quota_exceeded"
    assert Build.objects.count() == 1
    quota = api.get("/v1/env/quota").json()["data"]
    assert quota["storage_used_percent"] == 100


@pytest.mark.parametrize(
    "form",
    [
        {"hash": "abc"},
        {"file": "not a file", "hash": "abc"},
        {"hash": "abc", "build_id": "nope", "file": b"x"},
        {"hash": "abc", "build_type": "weird", "file": b"x"},
    ],
)
def test_malformed_forms_are_400(api, project, form):
    if isinstance(form.get("file"), bytes):
        form["file"] = SimpleUploadedFile("b.zip", form["file"])
    response = api.post(URL, form, format="multipart")
    assert response.status_code == 400
    assert not Build.objects.exists()


def test_missing_hash_is_400(api, project, bundle):
    data, _ = bundle
    response = api.post(URL, {"file": SimpleUploadedFile("b.zip", data)}, format="multipart")
    assert response.status_code == 400
    assert "hash" in response.json()["error"]["details"]


def test_json_upload_is_415(api, project):
    response = api.post(URL, {"hash": "x"}, format="json")
    assert response.status_code == 415


def test_unknown_project_upload_is_404(api, bundle):
    data, bundle_hash = bundle
    form = {"file": SimpleUploadedFile("b.zip", data), "hash": bundle_hash}
    assert api.post("/v1/projects/ghost/builds", form, format="multipart").status_code == 404


def test_cross_environment_builds_are_404(api, other_api, project, bundle):
    data, bundle_hash = bundle
    build_id = upload(api, data, bundle_hash).json()["data"]["build_id"]
    for path in [
        URL,
        f"{URL}/{build_id}",
        f"{URL}/{build_id}/download",
        f"{URL}/deployed",
        "/v1/projects/billing/event-handlers",
        "/v1/projects/billing/schedules",
    ]:
        assert other_api.get(path).status_code == 404, path
    assert other_api.post(f"{URL}/{build_id}/deploy").status_code == 404
    assert other_api.get("/v1/builds").json()["data"] == []


def test_project_delete_removes_builds_and_files(
    api, project, bundle, django_capture_on_commit_callbacks
):
    data, bundle_hash = bundle
    upload(api, data, bundle_hash)
    assert len(stored_files()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/v1/projects/billing").status_code == 204
    assert not Build.objects.exists() and not EventHandler.objects.exists()
    assert stored_files() == []


def test_manifestless_bundle_is_discovered_from_sources(api, project):
    data, bundle_hash = bundles.make_bundle(include_manifest=False)
    response = upload(api, data)
    assert response.status_code == 201, response.json()
    build = Build.objects.get()
    assert EventHandler.objects.get(build=build).event_type == "user.signup"


def test_stream_upload_never_buffers_whole_body(api, project, bundle, monkeypatch):
    """The upload handler writes to a temporary file: memory handlers are never used."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler

    def refuse(*args, **kwargs):
        raise AssertionError("the body was buffered in memory")

    monkeypatch.setattr(MemoryFileUploadHandler, "receive_data_chunk", refuse)
    data, bundle_hash = bundle
    assert upload(api, data, bundle_hash).status_code == 201


def test_admin_lists_builds(admin_client, api, project, bundle):
    data, bundle_hash = bundle
    build_id = upload(api, data, bundle_hash).json()["data"]["build_id"]
    assert admin_client.get("/admin/builds/build/").status_code == 200
    page = admin_client.get(f"/admin/builds/build/{build_id}/change/")
    assert page.status_code == 200 and b"user.signup" in page.content


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "0" * 63, "0" * 65, "0" * 64 + "\n0"])
def test_a_hash_that_is_not_64_hex_digits_is_400(api, project, bundle, bad):
    data, _ = bundle
    response = upload(api, data, bad)
    assert response.status_code == 400
    assert "hash" in response.json()["error"]["details"]
