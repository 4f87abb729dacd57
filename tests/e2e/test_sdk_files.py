"""The official SDK's ``files`` resource, unmodified, against a live server and a real worker:
every method; a multipart upload of a file larger than one request; Hot code writing a file
the API serves and reading one the API stored; a 20 MiB event payload round trip."""

import hashlib
import time

import pytest
from hot import HotClient
from hot.errors import HotApiError

from environments.services import api_key_issue
from tests import bundles

from .conftest import deploy_source

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MIB = 1024 * 1024
SOURCE = """\
::app::files ns

make-report
meta {on-event: "report.make"}
fn (event) {
  meta ::hot::file/write-file(`reports/${event.data.name}.csv`, "a,b\\n1,2\\n")
  {file-id: meta.file-id, size: meta.size, backend: meta.storage-backend}
}

read-text fn (path) { ::hot::file/read-file(path) }

describe fn (prefix) {
  files ::hot::file/list-files(prefix)
  ::hot::coll/map(files, (f) { `${f.path}:${f.size}` })
}

remove fn (path) { ::hot::file/delete-file(path) }

exists fn (path) { ::hot::file/file-exists(path) }

measure
meta {on-event: "doc.big"}
fn (event) {
  doc event.data.doc
  {length: length(doc), head: ::hot::str/slice(doc, 0, 5)}
}
"""
HANDLERS = [
    bundles.Handler("report.make", "::app::files/make-report"),
    bundles.Handler("doc.big", "::app::files/measure"),
]


@pytest.fixture
def sdk(make_hot_server, celery_worker_process, environment, project):
    deploy_source(project, SOURCE, handlers=HANDLERS)
    # One request carries at most 6 MiB here: larger files need a multipart upload.
    server = make_hot_server(HOT_FILE_UPLOAD_MAX_BYTES=str(6 * MIB))
    token = api_key_issue(environment=environment, name="sdk").token
    with HotClient(token=token, base_url=server.url, timeout=60) as client:
        yield client


def wait_for_run(sdk, event_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = sdk.events.get_runs(event_id)["data"]
        if runs:
            return sdk.runs.wait(runs[0]["run_id"], timeout=60)
        time.sleep(0.2)
    raise AssertionError("no run for the event")


def test_every_files_method(sdk):
    uploaded = sdk.files.upload("inbox/note.txt", "hello from the SDK")
    assert uploaded["path"] == "inbox/note.txt" and uploaded["size"] == 18
    assert uploaded["content_type"] == "text/plain"
    sdk.files.upload("inbox/data.json", b'{"k": 1}', content_type="application/json")
    listed = sdk.files.list(prefix="inbox/")
    assert listed["pagination"]["total"] == 2
    assert [item["path"] for item in listed["data"]] == ["inbox/data.json", "inbox/note.txt"]
    assert sdk.files.get(uploaded["file_id"]) == uploaded
    response = sdk.files.download(uploaded["file_id"])
    assert response.content == b"hello from the SDK"
    assert response.headers["content-disposition"] == 'attachment; filename="note.txt"'
    sdk.files.delete(uploaded["file_id"])
    with pytest.raises(HotApiError) as missing:
        sdk.files.get(uploaded["file_id"])
    assert missing.value.status_code == 404


def test_multipart_upload_of_a_file_larger_than_one_request(sdk):
    data = bytes(range(256)) * (11 * MIB // 256) + b"end"
    with pytest.raises(HotApiError) as refused:
        sdk.files.upload("videos/big.bin", data)
    assert refused.value.status_code == 413
    upload = sdk.files.initiate_upload({"path": "videos/big.bin", "expected_size": len(data)})
    assert upload["parts_expected"] == 2 and upload["part_size"] == 6 * MIB
    size = upload["part_size"]
    for number in range(1, upload["parts_expected"] + 1):
        chunk = data[(number - 1) * size : number * size]
        part = sdk.files.upload_part(upload["upload_id"], number, chunk)
        assert part == {
            "part_number": number,
            "size": len(chunk),
            "etag": hashlib.md5(chunk).hexdigest(),
        }
    file = sdk.files.complete_upload(upload["upload_id"])
    assert file["size"] == len(data)
    downloaded = sdk.files.download(file["file_id"]).content
    assert hashlib.sha256(downloaded).digest() == hashlib.sha256(data).digest()

    other = sdk.files.initiate_upload({"path": "videos/abandoned.bin"})
    sdk.files.upload_part(other["upload_id"], 1, b"x" * 100)
    sdk.files.abort_upload(other["upload_id"])
    with pytest.raises(HotApiError) as closed:
        sdk.files.complete_upload(other["upload_id"])
    assert closed.value.status_code == 409 and closed.value.code == "upload_not_pending"


def test_hot_code_and_the_api_share_the_files(sdk):
    published = sdk.events.publish({"event_type": "report.make", "event_data": {"name": "q3"}})
    run = wait_for_run(sdk, published["event_id"])
    written = run["result"]
    assert written["size"] == 8 and written["backend"] == "local"
    file = sdk.files.get(written["file-id"])
    assert file["path"] == "reports/q3.csv" and file["content_type"] == "text/csv"
    assert file["created_by_run_id"] == run["run_id"]
    assert sdk.files.download(file["file_id"]).content == b"a,b\n1,2\n"

    sdk.files.upload("inbox/from-api.txt", "written by the API")
    assert sdk.events.call_hot("::app::files/read-text", ["inbox/from-api.txt"]) == (
        "written by the API"
    )
    assert sdk.events.call_hot("::app::files/describe", ["reports/"]) == ["reports/q3.csv:8"]
    assert sdk.events.call_hot("::app::files/remove", ["reports/q3.csv"]) is True
    assert sdk.events.call_hot("::app::files/exists", ["reports/q3.csv"]) is False
    with pytest.raises(HotApiError):
        sdk.files.get(file["file_id"])
    with pytest.raises(RuntimeError, match="file not found: nowhere.txt"):
        sdk.events.call_hot("::app::files/read-text", ["nowhere.txt"])


def test_a_20_mib_event_payload_round_trip(sdk):
    document = "0123456789abcdef" * (20 * MIB // 16)
    published = sdk.events.publish({"event_type": "doc.big", "event_data": {"doc": document}})
    assert published["event_data"]["doc"] == document
    run = wait_for_run(sdk, published["event_id"])
    assert run["result"] == {"length": 20 * MIB, "head": "01234"}
    fetched = sdk.events.get(published["event_id"])
    assert fetched["event_data"] == {"doc": document}
