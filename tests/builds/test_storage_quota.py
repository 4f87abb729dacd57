"""The storage quota holds under concurrent uploads (reliability review D9, C5).

Before, the quota was check-then-insert: 30 concurrent uploads stored 112% of it on PostgreSQL.
Now each upload reserves its size under a lock on the environment row, in the transaction that
records the build.
"""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from builds.models import Build
from tests import bundles

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

UPLOADS = 16


def _bundles(count: int) -> list[tuple[bytes, str]]:
    made = []
    for index in range(count):
        source = f'::app::main ns\n\nvalue-{index:04d} fn () {{ "{index:04d}" }}\n'
        made.append(bundles.make_bundle({bundles.DEFAULT_SOURCE_PATH: source}, [], []))
    return made


def test_concurrent_uploads_never_exceed_the_storage_quota(api, project, environment):
    made = _bundles(UPLOADS)
    size = max(len(data) for data, _ in made)
    environment.storage_limit_bytes = int(size * 3.5)  # room for three
    environment.save(update_fields=["storage_limit_bytes"])
    barrier = threading.Barrier(UPLOADS)
    statuses = []

    def upload(data: bytes, bundle_hash: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.token}")
        try:
            barrier.wait(timeout=30)
            response = client.post(
                f"/v1/projects/{project.name}/builds",
                {"file": SimpleUploadedFile("b.zip", data), "hash": bundle_hash},
                format="multipart",
            )
            code = response.json().get("error", {}).get("code")
            statuses.append((response.status_code, code))
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=pair) for pair in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    stored = sum(Build.objects.filter(project=project).values_list("size", flat=True))
    assert stored <= environment.storage_limit_bytes
    assert sorted(statuses).count((201, None)) == 3
    assert statuses.count((413, "storage_quota_exceeded")) == UPLOADS - 3
