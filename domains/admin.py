from django.contrib import admin

from .models import Domain


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "environment", "status", "verified_at", "checked_at", "created_at"]
    list_filter = ["status", "environment"]
    search_fields = ["domain"]
    readonly_fields = [
        "environment",
        "domain",
        "validation_token",
        "status",
        "verified_at",
        "activated_at",
        "checked_at",
        "check_message",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # registered through the API, which hands out the DNS records to create
