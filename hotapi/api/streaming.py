"""Responses that stream stored bytes (file and blob downloads) under ASGI and WSGI alike.

Django serves a streaming response under ASGI only from an asynchronous iterator (given a
synchronous one it first reads it whole into a list), and under WSGI only from a synchronous
one (the reverse). ``byte_stream`` hands over whichever the server in front needs, reading
the synchronous source a chunk at a time in a worker thread under ASGI, so memory stays at a
chunk whatever the size.

Downloads answer any ``Accept`` (a client may ask for the file's own type); their errors are
still the JSON envelope (``DownloadMixin``).
"""

from collections.abc import Iterable, Iterator

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from rest_framework.renderers import BaseRenderer

from .renderers import EnvelopeJSONRenderer


class AnyMediaRenderer(BaseRenderer):
    """Lets any ``Accept`` negotiate on download endpoints; it never renders a body itself."""

    media_type = "*/*"
    format = "download"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return EnvelopeJSONRenderer().render(data, "application/json", renderer_context)


class DownloadMixin:
    renderer_classes = [EnvelopeJSONRenderer, AnyMediaRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        if getattr(response, "status_code", 200) >= 400:
            request.accepted_renderer = EnvelopeJSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


async def _in_thread(chunks: Iterable[bytes]):
    iterator: Iterator[bytes] = iter(chunks)
    step = sync_to_async(lambda: next(iterator, None), thread_sensitive=False)
    try:
        while (chunk := await step()) is not None:
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=False)()


def byte_stream(
    request,
    chunks: Iterable[bytes],
    *,
    content_type: str,
    size: int | None = None,
    filename: str | None = None,
    etag: str | None = None,
) -> StreamingHttpResponse:
    """A response streaming ``chunks``, as an attachment named ``filename`` when given."""
    django_request = getattr(request, "_request", request)
    under_asgi = hasattr(django_request, "scope")
    response = StreamingHttpResponse(
        _in_thread(chunks) if under_asgi else chunks, content_type=content_type
    )
    if size is not None:
        response["Content-Length"] = str(size)
    if filename is not None:
        response["Content-Disposition"] = content_disposition_header(True, filename)
    if etag:
        response["ETag"] = f'"{etag}"'
    return response
