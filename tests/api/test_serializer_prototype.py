"""``hotapi.api.serializers.ModelSerializer`` represents through one prototype's fields per
class when it can, and through its own fields when a context or its own changes may matter."""

import pytest

from projects.models import Project
from projects.serializers import ProjectSerializer

pytestmark = pytest.mark.django_db


def test_the_prototype_represents_as_drf_does(project):
    other = Project.objects.create(environment=project.environment, name="other")
    without_context = ProjectSerializer(project).data
    with_context = ProjectSerializer(project, context={"unused": True}).data  # DRF's own path
    assert without_context == with_context
    assert without_context["name"] == project.name and without_context["created_at"].endswith("Z")
    listed = ProjectSerializer([project, other], many=True).data
    assert listed == ProjectSerializer([project, other], many=True, context={"x": 1}).data
    assert [row["name"] for row in listed] == [project.name, "other"]


def test_one_prototype_per_class_without_a_context(project):
    first, second = ProjectSerializer(project), ProjectSerializer(project)
    assert first._readable_fields is second._readable_fields
    assert "fields" not in first.__dict__  # no per-instance deep copy of the fields


def test_a_context_or_changed_fields_use_the_instances_own(project):
    with_context = ProjectSerializer(project, context={"request": None})
    assert all(field.parent is with_context for field in with_context._readable_fields)
    trimmed = ProjectSerializer(project)
    trimmed.fields.pop("name")
    assert "name" not in trimmed.data and "project_id" in trimmed.data
    assert "name" in ProjectSerializer(project).data  # the prototype was not changed
