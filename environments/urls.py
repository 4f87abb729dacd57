from django.urls import path

from .views import EnvironmentView, OrgUsageView, QuotaView, ServiceKeyViewSet, SessionViewSet

sessions = SessionViewSet.as_view({"get": "list", "post": "create", "delete": "revoke_all"})
service_keys = ServiceKeyViewSet.as_view({"get": "list", "post": "create", "delete": "revoke_all"})
service_key = ServiceKeyViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("env", EnvironmentView.as_view(), name="env"),
    path("env/quota", QuotaView.as_view(), name="env-quota"),
    path("org/usage", OrgUsageView.as_view(), name="org-usage"),
    path("sessions", sessions, name="session-list"),
    path(
        "sessions/<str:session_id>",
        SessionViewSet.as_view({"delete": "destroy"}),
        name="session-detail",
    ),
    path("service-keys", service_keys, name="service-key-list"),
    path("service-keys/<str:service_key_id>", service_key, name="service-key-detail"),
]
