"""Stored objects follow their rows, whichever path deletes the row (the API, Hot code, an
environment's cascade, the admin): they are removed once the deletion has committed."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from . import storage
from .models import Blob, File, FileUpload, FileUploadPart, UploadStatus


@receiver(post_delete, sender=File, dispatch_uid="files.delete_file_object")
@receiver(post_delete, sender=FileUploadPart, dispatch_uid="files.delete_part_object")
@receiver(post_delete, sender=Blob, dispatch_uid="files.delete_blob_object")
def delete_stored_object(sender, instance, **kwargs) -> None:
    storage.delete_on_commit([instance.storage_key])


@receiver(post_delete, sender=FileUpload, dispatch_uid="files.abort_open_upload")
def abort_open_upload(sender, instance: FileUpload, **kwargs) -> None:
    """An unfinished S3 multipart upload keeps its parts until aborted."""
    if instance.status in (UploadStatus.PENDING, UploadStatus.COMPLETING):
        key, upload_id = instance.storage_key, instance.backend_upload_id
        transaction.on_commit(lambda: storage.multipart_abort(key, upload_id))
