from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from hotapi.access import FULL_ACCESS, Permissions
from hotapi.errors import InvalidInput

from .models import ApiKey, Environment, Organization, ServiceKey, Session
from .services import api_key_revoke, api_key_seal, service_keys_revoke, sessions_revoke


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
                    "max_concurrent_runs",
                    "storage_limit_bytes",
                    "compute_seconds_per_month",
                ]
            },
        ),
    ]
    inlines = [ApiKeyInline]


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["environment", "name", "permissions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].required = False  # empty: full access

    def clean_permissions(self):
        value = self.cleaned_data["permissions"]
        if value in (None, ""):
            return dict(FULL_ACCESS)
        try:
            return Permissions.parse(value).as_json()
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Operators issue keys here. The token is shown once, in the confirmation message."""

    form = ApiKeyForm
    list_display = ["name", "environment", "key_prefix", "created_at", "last_used_at", "status"]
    list_filter = ["environment", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "environment__name"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["environment", "name", "permissions"]
        return [
            "environment",
            "name",
            "permissions",
            "key_prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

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


def _status(row) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= timezone.now():
        return "expired"
    return "active"


class IssuedCredentialAdmin(admin.ModelAdmin):
    """Sessions and service keys are issued through the API; here they are listed and revoked."""

    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "environment"]
    search_fields = ["id", "api_key__name", "environment__name"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description="Status")
    def status(self, obj) -> str:
        return _status(obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead, so last use stays auditable


@admin.register(Session)
class SessionAdmin(IssuedCredentialAdmin):
    list_display = ["id", "api_key", "environment", "expires_at", "last_used_at", "status"]

    @admin.action(description="Revoke selected sessions")
    def revoke(self, request, queryset):
        revoked = sessions_revoke(sessions=queryset)
        self.message_user(request, f"Revoked {len(revoked)} session(s).")


@admin.register(ServiceKey)
class ServiceKeyAdmin(IssuedCredentialAdmin):
    list_display = ["name", "id", "api_key", "environment", "expires_at", "last_used_at", "status"]
    search_fields = [*IssuedCredentialAdmin.search_fields, "name"]

    @admin.action(description="Revoke selected service keys")
    def revoke(self, request, queryset):
        revoked = service_keys_revoke(service_keys=queryset)
        self.message_user(request, f"Revoked {len(revoked)} service key(s).")
