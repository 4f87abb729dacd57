from django.contrib import admin

from .models import StoreEntry, StoreMap


@admin.register(StoreMap)
class StoreMapAdmin(admin.ModelAdmin):
    list_display = ("name", "environment", "bytes", "created_at")
    list_filter = ("environment",)
    search_fields = ("name",)
    readonly_fields = ("id", "environment", "name", "bytes", "created_at")


@admin.register(StoreEntry)
class StoreEntryAdmin(admin.ModelAdmin):
    """Browse a store's entries (filter by store); values are shown as stored."""

    list_display = ("key", "map", "size", "updated_at")
    list_filter = ("map__environment", "map")
    search_fields = ("key", "text")
    list_select_related = ("map",)
    readonly_fields = ("id", "map", "key", "key_hash", "value", "text", "vector", "size")
    exclude = ()
