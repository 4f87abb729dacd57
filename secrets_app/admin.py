from django.contrib import admin

from hotapi.admin import ReadOnlyAdmin

from .models import ContextVariable


@admin.register(ContextVariable)
class ContextVariableAdmin(ReadOnlyAdmin):
    """Metadata only: the admin never shows, or lets anyone type over, an encrypted value.
    Deleting one is allowed (it is what ``DELETE .../context/{key}`` does)."""

    list_display = ["key", "project", "description", "key_id", "updated_at"]
    list_filter = ["project__environment"]
    search_fields = ["key", "project__name"]
    fields = ["project", "key", "description", "key_id", "created_at", "updated_at"]
    deletable = True
