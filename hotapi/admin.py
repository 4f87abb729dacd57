"""Admin building blocks shared by the apps."""

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse


class ReadOnlyInline(admin.TabularInline):
    """Rows written by the API and the workers, shown to operators."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators look; the API and the workers write. ``deletable`` admins may also delete,
    where deleting the row is all the matching service does."""

    deletable = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.deletable and super().has_delete_permission(request, obj)


class ConfirmedActionsAdmin(admin.ModelAdmin):
    """Admin actions that change state ask first and leave a history entry.

    An action decorated with :func:`confirmed_action` answers the changelist's POST with a
    confirmation page listing the chosen rows (and a reason field); only the confirmed POST
    performs it, once per row, and records a ``LogEntry`` (the object's History) with the
    reason. Actions named in ``object_actions`` also get a button on each object's page.
    """

    object_actions: tuple[str, ...] = ()
    change_form_template = "admin/hot/change_form_with_actions.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/do/<str:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_object_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def object_action_view(self, request, object_id, action):
        if action not in self.object_actions:
            raise Http404(f"No action {action!r}")
        queryset = self.get_queryset(request).filter(pk=object_id)
        if not queryset.exists():
            raise Http404("No such object")
        func, _, _ = self.get_actions(request)[action]
        return func(self, request, queryset) or self._back_to(request, object_id)

    def _back_to(self, request, object_id):
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[object_id]))

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        actions = self.get_actions(request)
        context["object_actions"] = [
            (name, getattr(actions[name][0], "object_label", actions[name][2]))
            for name in self.object_actions
            if name in actions
        ]
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


def confirmed_action(*, description: str, verb: str, label: str = "", check=None):
    """Wrap ``perform(modeladmin, request, obj, reason) -> str | None`` (a message saying why
    it was not done to ``obj``, or None) into a confirmed, logged admin action. ``check``
    may refuse a whole selection up front (``check(queryset) -> str | None``); ``label`` names
    the button on an object's page."""

    def decorate(perform):
        def action(modeladmin, request, queryset):
            refusal = check(queryset) if check else None
            if refusal:
                modeladmin.message_user(request, refusal, messages.ERROR)
                return None
            if request.POST.get("confirmed") != "yes":
                return TemplateResponse(
                    request,
                    "admin/hot/confirm_action.html",
                    {
                        **modeladmin.admin_site.each_context(request),
                        "title": f"{description}?",
                        "verb": verb,
                        "opts": modeladmin.opts,
                        "queryset": queryset,
                        "action": perform.__name__,
                        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                    },
                )
            reason = request.POST.get("reason", "").strip()[:500]
            done, skipped = 0, []
            for obj in queryset:
                refusal = perform(modeladmin, request, obj, reason)
                if refusal:
                    skipped.append(f"{obj}: {refusal}")
                    continue
                modeladmin.log_change(
                    request, obj, f"{verb}" + (f" (reason: {reason})" if reason else "")
                )
                done += 1
            modeladmin.message_user(
                request, f"{verb}: {done} of {len(queryset)}.", messages.SUCCESS
            )
            for line in skipped:
                modeladmin.message_user(request, f"Not done: {line}", messages.WARNING)
            return None

        action.__name__ = perform.__name__
        action.object_label = label or description
        return admin.action(description=description)(action)

    return decorate
