"""The Celery app. Broker: ``filesystem://`` under the data dir by default, Redis by setting."""

import os

from celery import Celery
from celery.signals import worker_init

from .broker import install as install_atomic_filesystem_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotapi.settings")
install_atomic_filesystem_broker()

app = Celery("hotapi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_configuration(**kwargs) -> None:
    from hotapi.checks import ensure_serving_configuration

    ensure_serving_configuration()
