"""A build's stored file follows its row, whichever path deletes the row."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Build
from .storage import delete_stored_file_on_commit


@receiver(post_delete, sender=Build, dispatch_uid="builds.delete_stored_file")
def delete_stored_file(sender, instance: Build, **kwargs) -> None:
    delete_stored_file_on_commit(instance.storage_key)
