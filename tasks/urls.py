from django.urls import path

from .views import TaskSubscribeView, TaskViewSet

urlpatterns = [
    path("tasks/<str:task_id>", TaskViewSet.as_view({"get": "retrieve"}), name="task-detail"),
    path("tasks/<str:task_id>/subscribe", TaskSubscribeView.as_view(), name="task-subscribe"),
]
