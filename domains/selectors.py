from django.db.models import QuerySet

from hotapi.api.lookups import get_by_id_or_404

from .models import Domain


def domain_list(*, environment) -> QuerySet[Domain]:
    return Domain.objects.filter(environment=environment).order_by("-created_at", "-id")


def domain_get(*, environment, domain_id: str) -> Domain:
    return get_by_id_or_404(
        Domain.objects.filter(environment=environment), domain_id, "Domain not found"
    )
