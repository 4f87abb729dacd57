from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from hotapi.access import FULL_ACCESS, Permissions
from hotapi.admin import ConfirmedActionsAdmin, confirmed_action
from hotapi.errors import InvalidInput

from .models import GIB, ApiKey, Environment, Organization, ServiceKey, Session
from .selectors import environment_quota
from .services import api_key_revoke, api_key_seal, service_keys_revoke, sessions_revoke
from .usage import COMPUTE_SECONDS_THIS_MONTH, STORAGE_BYTES, usage


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
    readonly_fields = ["current_use", "storage_limit_gib"]
    inlines = [ApiKeyInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Current use", {"fields": ["current_use", "storage_limit_gib"]})]

    @admin.display(description="Use")
    def current_use(self, environment: Environment) -> str:
        quota = environment_quota(environment=environment)
        storage = usage(STORAGE_BYTES, environment=environment)
        compute = usage(COMPUTE_SECONDS_THIS_MONTH, environment=environment)
        return (
            f"storage {storage / GIB:.2f} GiB ({quota['storage_used_percent']}% of the limit); "
            f"compute this month {compute:,.0f} s ({quota['compute_used_percent']}% of the "
            f"limit)"
        )

    @admin.display(description="Storage limit")
    def storage_limit_gib(self, environment: Environment) -> str:
        return f"{environment.storage_limit_bytes / GIB:.2f} GiB"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: deleting would take every project, run and key


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
class ApiKeyAdmin(ConfirmedActionsAdmin):
    """Operators issue keys here. A new token is shown once, on its own page that no cache
    keeps; it is never put in a message or a cookie."""

    form = ApiKeyForm
    list_display = ["name", "environment", "key_prefix", "created_at", "last_used_at", "status"]
    list_filter = ["environment", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "environment__name"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]
    object_actions = ("revoke_keys",)

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
        if not change:
            # Kept on the instance for this response only (see response_add).
            obj._issued_token = api_key_seal(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        response = TemplateResponse(
            request,
            "admin/environments/apikey/issued.html",
            {
                **self.admin_site.each_context(request),
                "title": "API key created",
                "opts": self.opts,
                "api_key": obj,
                "token": obj._issued_token,
            },
        )
        add_never_cache_headers(response)  # Cache-Control: no-store (and no-cache, private)
        return response

    @confirmed_action(
        description="Revoke selected API keys", verb="Revoked", label="Revoke this key"
    )
    def revoke_keys(self, request, api_key: ApiKey, reason: str):
        if not api_key.is_active:
            return "already revoked"
        api_key_revoke(api_key=api_key)
        return None

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
