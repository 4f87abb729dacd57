from django.urls import path

from .views import EnvironmentView, QuotaView

urlpatterns = [
    path("env", EnvironmentView.as_view(), name="env"),
    path("env/quota", QuotaView.as_view(), name="env-quota"),
]
