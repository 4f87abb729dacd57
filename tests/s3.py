"""A real S3 endpoint for tests: moto's server on loopback, and how the tests list a storage."""

import shutil
import subprocess
import time

import httpx
import pytest

from .live import free_port


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    executable = shutil.which("moto_server")
    if executable is None:  # moto[server] is in requirements.txt; this only guards odd setups
        pytest.skip("moto_server is not installed")
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def s3_storage_settings(endpoint: str, bucket: str, **options) -> dict:
    """A ``STORAGES`` entry for the bucket on the moto endpoint."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "access_key": "test",
            "secret_key": "test",
            "region_name": "us-east-1",
            "addressing_style": "path",
            "signature_version": "s3v4",
            "file_overwrite": False,
            **options,
        },
    }


def listed(storage) -> list[str]:
    """Every object of a storage, walking its folders (nothing when it has none yet)."""
    found: list[str] = []

    def walk(prefix):
        dirs, names = storage.listdir(prefix)
        found.extend(f"{prefix}/{name}".lstrip("/") for name in names)
        for directory in dirs:
            walk(f"{prefix}/{directory}".lstrip("/"))

    try:
        walk("")
    except FileNotFoundError:
        return []
    return sorted(found)
