"""The official hot-dev SDK against a live server and a real worker: builds end to end."""

import io

import pytest
from hot import HotClient
from hot.errors import HotApiError

from environments.services import api_key_issue
from tests import bundles
from tests.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def sdk(hot_server, celery_worker_process, environment):
    token = api_key_issue(environment=environment, name="sdk").token
    with HotClient(token=token, base_url=hot_server.url) as client:
        client.projects.create({"name": "sdk-builds"})
        yield client


def test_upload_deploy_and_discover(sdk):
    data, bundle_hash = bundles.make_bundle()
    uploaded = sdk.builds.upload("sdk-builds", file=io.BytesIO(data), hash=bundle_hash)
    build_id = uploaded["build_id"]
    assert uploaded["size"] == len(data) and uploaded["hash"] == bundle_hash

    assert sdk.builds.get("sdk-builds", build_id)["runtime_status"] == "pending"
    assert sdk.builds.deploy("sdk-builds", build_id)["deployment_sequence"] == 1
    wait_for(lambda: sdk.builds.get("sdk-builds", build_id)["runtime_status"] == "ready")
    assert sdk.builds.deployed("sdk-builds")["build_id"] == build_id

    handlers = sdk.projects.event_handlers("sdk-builds")["data"]
    assert handlers[0]["event_type"] == "user.signup"
    schedules = sdk.projects.schedules("sdk-builds")["data"]
    assert schedules[0]["var"] == "nightly-digest"

    download = sdk.builds.download("sdk-builds", build_id)
    assert download.headers["content-type"] == "application/zip"
    assert download.content == data

    listed = sdk.builds.list_for_project("sdk-builds")
    assert listed["pagination"]["total"] == 1
    assert sdk.builds.list()["data"][0]["project_name"] == "sdk-builds"


def test_idempotent_upload_with_build_id(sdk):
    data, bundle_hash = bundles.make_bundle()
    build_id = "0196f1c2-7b1e-7a53-9c1e-5d2f8a9b0c99"
    first = sdk.builds.upload(
        "sdk-builds", file=io.BytesIO(data), hash=bundle_hash, build_id=build_id
    )
    second = sdk.builds.upload(
        "sdk-builds", file=io.BytesIO(data), hash=bundle_hash, build_id=build_id
    )
    assert first["build_id"] == second["build_id"] == build_id


def test_hostile_upload_is_a_clean_error(sdk):
    hostile = bundles.hostile("path_traversal")
    with pytest.raises(HotApiError) as excinfo:
        sdk.builds.upload("sdk-builds", file=io.BytesIO(hostile.data), hash=hostile.client_hash)
    assert excinfo.value.status_code == 400
    assert excinfo.value.code == "bad_request"
    with pytest.raises(HotApiError) as excinfo:
        sdk.builds.deployed("sdk-builds")
    assert excinfo.value.status_code == 404


def test_oversized_upload_is_refused_before_the_body_is_read(hot_server):
    """The ASGI wrapper answers 413 from Content-Length alone: the client sends no body."""
    import socket

    host, port = "127.0.0.1", hot_server.port
    head = (
        "POST /v1/projects/any/builds HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {10 * 1024**3}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head.encode())
        chunks = []
        while chunk := sock.recv(65536):  # the server closes the connection after answering
            chunks.append(chunk)
    response = b"".join(chunks).decode()
    assert response.startswith("HTTP/1.1 413")
    assert '"code": "payload_too_large"' in response
