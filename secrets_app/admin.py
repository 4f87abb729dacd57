from django.contrib import admin

from .models import ContextVariable


@admin.register(ContextVariable)
class ContextVariableAdmin(admin.ModelAdmin):
    """Metadata only: the admin never shows, or lets anyone type over, an encrypted value."""

    list_display = ["key", "project", "description", "key_id", "updated_at"]
    list_filter = ["project__environment"]
    search_fields = ["key", "project__name"]
    fields = ["project", "key", "description", "key_id", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
