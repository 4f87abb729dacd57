"""Concurrent writers: of one path, they end with one file whose row and bytes agree and leave
no stray object; of many paths, the storage quota holds exactly. Threads have connections of
their own (on PostgreSQL, real concurrent transactions; CI runs this on both databases); the
slow test adds a second process, a live server, writing the same path."""

import hashlib
import threading

import httpx
import pytest
from django.db import connection
from rest_framework.test import APIClient

from environments.services import api_key_issue
from files import storage
from files.models import File
from files.services import HostFiles

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
ROUNDS = 3


def objects(storage_dir) -> list:
    return [path for path in (storage_dir / "files").rglob("*") if path.is_file()]


def body(writer: int, round_: int) -> bytes:
    return f"writer {writer} round {round_} ".encode() * (1000 + 97 * writer)


def assert_one_consistent_file(path: str, storage_dir, candidates: set[bytes]) -> File:
    file = File.objects.get(path=path)
    data = storage.read_bytes(file.storage_key)
    assert data in candidates  # one writer's bytes, whole
    assert file.size == len(data) and file.etag == hashlib.md5(data).hexdigest()
    assert len(objects(storage_dir)) == 1  # the losers' objects are gone
    return file


def run_threads(work) -> list:
    barrier = threading.Barrier(THREADS)
    results: list = []

    def target(index):
        barrier.wait()
        try:
            results.append(work(index))
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_writers_of_one_path_end_with_one_consistent_file(api, storage_dir):
    written: set[bytes] = set()
    for round_ in range(ROUNDS):

        def write(index, round_=round_):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
            data = body(index, round_)
            written.add(data)
            if index % 2:  # half through Hot code's file store, half through the API
                host = HostFiles(api.api_key.environment_id)
                return host.write("shared/report.txt", data)["file_id"]
            response = client.generic("PUT", "/v1/files/upload/shared/report.txt", data)
            assert response.status_code == 200, response.content
            return response.json()["data"]["file_id"]

        ids = set(run_threads(write))
        assert len(ids) == 1  # one file, whoever created it
        file = assert_one_consistent_file("shared/report.txt", storage_dir, written)
        assert str(file.pk) in ids


def test_concurrent_writers_cannot_overrun_the_quota(api, environment, storage_dir):
    environment.storage_limit_bytes = 5000
    environment.save()

    def write(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
        response = client.generic("PUT", f"/v1/files/upload/q/{index}.bin", b"x" * 1000)
        return response.status_code

    statuses = sorted(run_threads(write))
    assert statuses == [200] * 5 + [413] * (THREADS - 5)
    assert sum(File.objects.values_list("size", flat=True)) == 5000
    assert len(objects(storage_dir)) == 5


@pytest.mark.slow
def test_a_live_server_and_this_process_write_one_path(hot_server, environment, storage_dir):
    token = api_key_issue(environment=environment, name="race").token
    written: set[bytes] = set()

    def write(index):
        data = body(index, 0)
        written.add(data)
        if index % 2:
            host = HostFiles(environment.pk)
            return host.write("race/data.bin", data)["file_id"]
        response = httpx.put(
            f"{hot_server.url}/v1/files/upload/race/data.bin",
            content=data,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]["file_id"]

    assert len(set(run_threads(write))) == 1
    assert_one_consistent_file("race/data.bin", storage_dir, written)
