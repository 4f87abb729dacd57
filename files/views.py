import posixpath

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from hostio.files import MAX_PATH_CHARS, PATH_PATTERN
from hotapi.api.pagination import paginate
from hotapi.api.permissions import needs
from hotapi.api.schema import error_responses
from hotapi.api.streaming import DownloadMixin, byte_stream
from hotapi.api.views import EnvironmentScopedViewSet
from hotapi.errors import InvalidInput

from . import selectors, services, storage
from .serializers import (
    FileSerializer,
    UploadInitiateSerializer,
    UploadPartSerializer,
    UploadSerializer,
)

RAW_BODY = {"application/octet-stream": OpenApiTypes.BINARY}
# A download is sent with the file's own content type, whatever it is.
DOWNLOAD = {(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The bytes")}
FILE_PATH = OpenApiParameter(
    "file_path",
    {"type": "string", "pattern": PATH_PATTERN, "maxLength": MAX_PATH_CHARS},
    OpenApiParameter.PATH,
    description="Where the file goes: `/`-separated, normalized as the API describes "
    "(`hot://` and leading `/` dropped, no `..`)",
)
PREFIX = OpenApiParameter(
    "prefix", str, description="Only files whose path starts with this (`reports/`, say)"
)


def declared_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    return int(raw) if raw.strip().isdigit() else None


def body_stream(request):
    """The request body as a stream, read a chunk at a time (never parsed, never whole)."""
    return request._request


class FileLookupMixin:
    def get_file(self):
        return selectors.file_get(environment=self.environment, file_id=self.kwargs["file_id"])


@extend_schema(tags=["files"])
class FileViewSet(FileLookupMixin, EnvironmentScopedViewSet):
    """The environment's stored files: the same ones Hot code reads and writes."""

    serializer_class = FileSerializer
    permission_rules = {
        "list": needs("file", "read"),
        "retrieve": needs("file", "read"),
        "destroy": needs("file", "delete"),
        "upload": needs("file", "create"),
    }

    @extend_schema(parameters=[PREFIX])
    def list(self, request):
        files = selectors.file_list(
            environment=self.environment, prefix=request.query_params.get("prefix")
        )
        return paginate(self, files, FileSerializer)

    def retrieve(self, request, file_id=None):
        return Response(FileSerializer(self.get_file()).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, file_id=None):
        services.file_delete(file=self.get_file())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="files_upload",
        description="Write the request body to the file at `file_path` (created, or replaced "
        "keeping its id). The body is streamed to storage; its `Content-Type` is kept, else "
        "the path's extension decides. At most `HOT_FILE_UPLOAD_MAX_BYTES` per request: larger "
        "files use a multipart upload.",
        request=RAW_BODY,
        parameters=[FILE_PATH],
        responses={200: FileSerializer, **error_responses(413)},
    )
    def upload(self, request, file_path=None):
        file = services.file_write(
            environment_id=self.environment.pk,
            path=file_path,
            source=body_stream(request),
            content_type=request.META.get("CONTENT_TYPE"),
            declared_size=declared_length(request),
            limit=settings.HOT_FILE_UPLOAD_MAX_BYTES,
        )
        return Response(FileSerializer(file).data)


@extend_schema(tags=["files"])
class FileDownloadViewSet(FileLookupMixin, DownloadMixin, EnvironmentScopedViewSet):
    permission_rules = {"download": needs("file", "read")}

    @extend_schema(responses=DOWNLOAD)
    def download(self, request, file_id=None):
        file = self.get_file()
        return byte_stream(
            request,
            storage.iter_chunks(file.storage_key),
            content_type=file.content_type,
            size=file.size,
            filename=posixpath.basename(file.path),
            etag=file.etag,
        )


def _part_number(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidInput(
            f"Part number must be an integer from 1 to {services.MAX_PARTS}",
            details={"part_number": ["not an integer in range"]},
        )
    return int(raw)


@extend_schema(tags=["files"])
class FileUploadViewSet(EnvironmentScopedViewSet):
    """Multipart uploads, for files larger than one request: start, send the parts (any
    order, each up to `HOT_FILE_UPLOAD_MAX_BYTES`), complete (or abort)."""

    serializer_class = UploadSerializer
    permission_rules = {
        "create": needs("file", "create"),
        "part": needs("file", "create"),
        "complete": needs("file", "create"),
        "abort": needs("file", "delete"),
    }

    def get_upload(self):
        return selectors.upload_get(
            environment=self.environment, upload_id=self.kwargs["upload_id"]
        )

    @extend_schema(
        request=UploadInitiateSerializer,
        responses={201: UploadSerializer, **error_responses(413)},
    )
    def create(self, request):
        payload = UploadInitiateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = services.upload_initiate(
            environment_id=self.environment.pk, **payload.validated_data
        )
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="files_upload_part",
        description="Store one part (1 to 10,000). Every part but the last must be at least "
        "`HOT_FILE_PART_MIN_BYTES`; a part sent again replaces the earlier one.",
        request=RAW_BODY,
        responses={200: UploadPartSerializer, **error_responses(409, 413)},
    )
    def part(self, request, upload_id=None, part_number=None):
        number = _part_number(part_number)
        part = services.upload_part(
            upload=self.get_upload(),
            number=number,
            source=body_stream(request),
            declared_size=declared_length(request),
        )
        return Response(UploadPartSerializer(part).data)

    @extend_schema(request=None, responses={200: FileSerializer, **error_responses(409, 413)})
    def complete(self, request, upload_id=None):
        file = services.upload_complete(upload=self.get_upload())
        return Response(FileSerializer(file).data)

    @extend_schema(responses={204: None, **error_responses(409)})
    def abort(self, request, upload_id=None):
        services.upload_abort(upload=self.get_upload())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["files"])
class BlobViewSet(DownloadMixin, EnvironmentScopedViewSet):
    """Large payloads kept as blobs (a ``::hot::blob/BlobRef`` in event data or results)."""

    permission_rules = {"download": needs("blob", "read")}

    @extend_schema(responses=DOWNLOAD)
    def download(self, request, blob_id=None):
        blob = selectors.blob_get(environment=self.environment, blob_id=blob_id)
        return byte_stream(
            request,
            storage.iter_chunks(blob.storage_key),
            content_type=blob.content_type,
            size=blob.size,
            filename=f"blob-{blob.id}",
        )
