from django.urls import path

from .views import ProjectViewSet

collection = ProjectViewSet.as_view({"get": "list", "post": "create"})
item = ProjectViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("projects", collection, name="project-list"),
    path("projects/<str:project_ref>", item, name="project-detail"),
]
