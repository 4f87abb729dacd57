"""Temporary upload files a killed process left behind are removed (reliability review L-J)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builds.uploads import OwnedTemporaryUploadedFile, remove_orphaned_upload_files
from tests.live import BASE_DIR, child_environment

HOLD_AN_UPLOAD = """
import django, time
django.setup()
from builds.uploads import OwnedTemporaryUploadedFile
upload = OwnedTemporaryUploadedFile("bundle.hot.zip", "application/zip", 0, None)
upload.write(b"half of a bundle")
upload.flush()
print(upload.temporary_file_path(), flush=True)
time.sleep(60)
"""


@pytest.mark.slow
def test_files_of_a_killed_process_are_removed_and_live_ones_kept(tmp_path, settings):
    data_dir = tmp_path / "data"
    temp_dir = data_dir / "tmp"  # the data dir's temporary files, in child and here alike
    temp_dir.mkdir(parents=True)
    settings.FILE_UPLOAD_TEMP_DIR = str(temp_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AN_UPLOAD],
        cwd=BASE_DIR,
        env=child_environment(DEBUG="1", HOT_DATA_DIR=str(data_dir)),
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        orphan = Path(holder.stdout.readline().decode().strip())
        assert orphan.parent == temp_dir and orphan.exists()
        assert remove_orphaned_upload_files() == 0  # its owner is still alive
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait()
        holder.stdout.close()

    mine = OwnedTemporaryUploadedFile("mine.zip", "application/zip", 0, None)
    stale_legacy = temp_dir / "tmpabc123.upload.zip"
    fresh_legacy = temp_dir / "tmpdef456.upload.zip"
    unrelated = temp_dir / "notes.txt"
    for path in (stale_legacy, fresh_legacy, unrelated):
        path.write_bytes(b"x")
    old = time.time() - settings.HOT_UPLOAD_TMP_MAX_AGE_SECONDS - 60
    os.utime(stale_legacy, (old, old))
    os.utime(unrelated, (old, old))

    assert remove_orphaned_upload_files() == 2
    assert not orphan.exists() and not stale_legacy.exists()
    assert Path(mine.temporary_file_path()).exists()  # this process is alive
    assert fresh_legacy.exists() and unrelated.exists()
    mine.close()


@pytest.mark.django_db
def test_uploads_are_spooled_to_owned_files(api, project, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from builds import uploads
    from tests import bundles

    created = []
    original = uploads.OwnedTemporaryUploadedFile.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        created.append(Path(self.temporary_file_path()).name)

    monkeypatch.setattr(uploads.OwnedTemporaryUploadedFile, "__init__", recording_init)
    data, bundle_hash = bundles.make_bundle()
    response = api.post(
        f"/v1/projects/{project.name}/builds",
        {"file": SimpleUploadedFile("b.zip", data), "hash": bundle_hash},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert created and created[0].startswith(f"hot-upload.{os.getpid()}.")
