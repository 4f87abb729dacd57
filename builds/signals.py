"""A build's stored file follows its row, whichever path deletes the row; and every saved or
deleted build or project raises its environment's serving version (``serving_changed``), so
no worker routes an event with the handlers it cached before the change."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from projects.models import Project

from .models import Build
from .services import serving_changed
from .storage import delete_stored_file_on_commit


@receiver(post_delete, sender=Build, dispatch_uid="builds.delete_stored_file")
def delete_stored_file(sender, instance: Build, **kwargs) -> None:
    delete_stored_file_on_commit(instance.storage_key)


# Saves and deletes (the admin's too) send these. The services' queryset updates of builds
# (which send nothing) always come with a saved build or project in the same transaction.
@receiver(post_save, sender=Build, dispatch_uid="builds.serving_on_build_save")
@receiver(post_delete, sender=Build, dispatch_uid="builds.serving_on_build_delete")
def build_serving_changed(sender, instance: Build, **kwargs) -> None:
    if Build.project.is_cached(instance):  # loaded already: no query
        environment_id = instance.project.environment_id
    else:
        rows = Project.objects.filter(pk=instance.project_id)
        environment_id = rows.values_list("environment_id", flat=True).first()
    if environment_id is not None:  # else its project went first and said so itself
        serving_changed(environment_id=environment_id)


@receiver(post_save, sender=Project, dispatch_uid="builds.serving_on_project_save")
@receiver(post_delete, sender=Project, dispatch_uid="builds.serving_on_project_delete")
def project_serving_changed(sender, instance: Project, **kwargs) -> None:
    serving_changed(environment_id=instance.environment_id)
