from django.urls import path

from .views import DomainViewSet

domain = "domains/<str:domain_id>"

urlpatterns = [
    path("domains", DomainViewSet.as_view({"get": "list", "post": "create"}), name="domain-list"),
    path(
        domain,
        DomainViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="domain-detail",
    ),
    path(f"{domain}/verify", DomainViewSet.as_view({"post": "verify"}), name="domain-verify"),
]
