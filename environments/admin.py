from django.contrib import admin, messages

from .models import ApiKey, Environment, Organization
from .services import api_key_revoke, api_key_seal


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "active", "requests_per_hour", "max_concurrent_runs"]
    list_filter = ["active", "organization"]
    search_fields = ["name", "organization__name"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "active"]}),
        (
            "Quota limits",
            {
                "fields": [
                    "requests_per_hour",
                    "requests_per_second",
                    "max_concurrent_runs",
                    "storage_limit_bytes",
                    "compute_seconds_per_month",
                ]
            },
        ),
    ]
    inlines = [ApiKeyInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Operators issue keys here. The token is shown once, in the confirmation message."""

    list_display = ["name", "environment", "key_prefix", "created_at", "last_used_at", "status"]
    list_filter = ["environment", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "environment__name"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["environment", "name"]
        return ["environment", "name", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["environment", *self.readonly_fields]

    @admin.display(description="Key id")
    def key_prefix(self, obj: ApiKey) -> str:
        return f"hot_{obj.id.hex}_…"

    @admin.display(description="Status")
    def status(self, obj: ApiKey) -> str:
        return "active" if obj.is_active else "revoked"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token = api_key_seal(obj)
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            f"New API key for {obj.environment}: {token} — copy it now, "
            "it will not be shown again.",
        )
        return None

    @admin.action(description="Revoke selected API keys")
    def revoke_keys(self, request, queryset):
        active = list(queryset.filter(revoked_at__isnull=True))
        for api_key in active:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(active)} key(s).")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead, so last use stays auditable
