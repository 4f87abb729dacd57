from django.urls import path

from .views import BlobViewSet, FileDownloadViewSet, FileUploadViewSet, FileViewSet

file = "files/<str:file_id>"
upload = "files/uploads/<str:upload_id>"

urlpatterns = [
    path("files", FileViewSet.as_view({"get": "list"}), name="file-list"),
    path(
        "files/upload/<path:file_path>", FileViewSet.as_view({"put": "upload"}), name="file-upload"
    ),
    path("files/uploads", FileUploadViewSet.as_view({"post": "create"}), name="file-uploads"),
    path(upload, FileUploadViewSet.as_view({"delete": "abort"}), name="file-upload-detail"),
    path(
        f"{upload}/complete",
        FileUploadViewSet.as_view({"post": "complete"}),
        name="file-upload-complete",
    ),
    path(
        f"{upload}/<str:part_number>",
        FileUploadViewSet.as_view({"put": "part"}),
        name="file-upload-part",
    ),
    path(file, FileViewSet.as_view({"get": "retrieve", "delete": "destroy"}), name="file-detail"),
    path(
        f"{file}/download", FileDownloadViewSet.as_view({"get": "download"}), name="file-download"
    ),
    path(
        "blobs/<str:blob_id>/download",
        BlobViewSet.as_view({"get": "download"}),
        name="blob-download",
    ),
]
