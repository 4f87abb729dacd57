from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class EnvironmentsConfig(AppConfig):
    name = "environments"
    verbose_name = "Environments and API keys"

    def ready(self):
        from . import credential_cache
        from .models import ApiKey, Environment, ServiceKey, Session

        # Any edit or deletion of a credential, or of the environment it opens, reaches every
        # web process's cache of verified credentials on its next request.
        for model in (ApiKey, Environment, ServiceKey, Session):
            post_save.connect(credential_cache.changed_on_save, sender=model)
            post_delete.connect(credential_cache.changed_on_delete, sender=model)
