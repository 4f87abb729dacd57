"""Concurrent uploads with one build_id create exactly one build (and one stored object)."""

import hashlib
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from builds.models import Build
from tests import bundles

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def test_concurrent_uploads_with_one_build_id(api, project, storage_dir):
    data, bundle_hash = bundles.make_bundle()
    build_id = str(uuid.uuid4())
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []

    def upload():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
        barrier.wait()
        form = {
            "file": SimpleUploadedFile("b.zip", data),
            "hash": bundle_hash,
            "build_id": build_id,
        }
        try:
            response = client.post("/v1/projects/billing/builds", form, format="multipart")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] * (THREADS - 1) + [201], statuses
    build = Build.objects.get()
    assert str(build.pk) == build_id and build.sha256 == hashlib.sha256(data).hexdigest()
    stored = [path for path in (storage_dir / "builds").rglob("*.zip")]
    assert len(stored) == 1, stored
