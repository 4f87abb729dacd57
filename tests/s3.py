"""A real S3 endpoint for tests: moto's server on loopback."""

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
