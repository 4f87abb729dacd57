"""ASGI entry point, with an early size check for build uploads.

Django's ASGI handler reads a request body completely before any view runs, so an oversized
upload would be received in full before the view could refuse it. ``EarlyUploadLimit`` answers
413 from the declared ``Content-Length`` before a byte of such a body is read.
"""

import gc
import json
import os
import re
import tempfile
import uuid

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402  (needs the settings configured above)

from builds.uploads import MULTIPART_OVERHEAD_BYTES  # noqa: E402
from hotapi.checks import ensure_serving_configuration  # noqa: E402

ensure_serving_configuration()
# The handler spools request bodies to the default temp dir, which may be memory-backed.
tempfile.tempdir = settings.FILE_UPLOAD_TEMP_DIR

UPLOAD_PATH = re.compile(r"^/(api/)?v1/projects/[^/]+/builds/?$")


class EarlyUploadLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and UPLOAD_PATH.match(scope["path"])
            and self._declared_length(scope)
            > settings.HOT_BUILD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
        ):
            await self._refuse(send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _declared_length(scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    @staticmethod
    async def _refuse(send) -> None:
        request_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "error": {
                    "code": "payload_too_large",
                    "message": f"Build exceeds the maximum size of "
                    f"{settings.HOT_BUILD_MAX_BYTES} bytes",
                    "request_id": request_id,
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


application = EarlyUploadLimit(django_application)

# A long-lived server with many open streams allocates steadily; the default collector
# thresholds made full collections stall every connection for hundreds of milliseconds.
# Objects created during start-up are frozen out of collection, and collections run less often.
gc.freeze()
gc.set_threshold(50_000, 50, 100)
