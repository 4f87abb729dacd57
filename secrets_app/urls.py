from django.urls import path

from .views import ContextVariableViewSet

collection = ContextVariableViewSet.as_view({"get": "list", "post": "create"})
item = ContextVariableViewSet.as_view({"put": "update", "delete": "destroy"})

urlpatterns = [
    path("projects/<str:project_ref>/context", collection, name="context-list"),
    path("projects/<str:project_ref>/context/<str:key>", item, name="context-detail"),
]
