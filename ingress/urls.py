from django.urls import path

from . import views

app_name = "ingress"

urlpatterns = [
    path("webhook/<path:rest>", views.webhook, name="webhook"),
    path("mcp/<path:rest>", views.mcp_endpoint, name="mcp"),
]
