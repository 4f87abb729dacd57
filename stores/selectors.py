from django.db.models import Sum

from .models import StoreMap


def store_bytes(*, environment) -> int:
    """What the environment's stores hold (the storage quota counts it)."""
    return (
        StoreMap.objects.filter(environment=environment).aggregate(total=Sum("bytes"))["total"] or 0
    )
