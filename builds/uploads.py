"""Streaming of build uploads: the body goes to a temporary file, never whole into memory."""

import hashlib

from django.core.files.uploadhandler import TemporaryFileUploadHandler

from hotapi.errors import TooLarge

# Multipart framing around the file (boundaries, headers, the small text fields).
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"Build exceeds the maximum size of {limit} bytes")


class BoundedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Writes every uploaded file to a temporary file and stops once ``limit`` is passed,
    also when the client sends no (or a false) Content-Length."""

    chunk_size = 1024 * 1024  # fewer, larger writes: uploads are large by nature

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.sha256 = hashlib.sha256()  # hashed while receiving, so it needs no extra pass

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + MULTIPART_OVERHEAD_BYTES:
            raise too_large(self.limit)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # deletes the temporary file
            raise too_large(self.limit)
        self.sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        upload = super().file_complete(file_size)
        if upload is not None:
            upload.sha256 = (self.sha256.hexdigest(), file_size)
        return upload
