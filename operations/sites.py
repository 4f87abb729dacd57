"""The admin site: Django's, with the overview dashboard as its index page."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class HotAdminSite(admin.AdminSite):
    site_header = "Hot API administration"
    site_title = "Hot API admin"
    index_title = "Overview"
    index_template = "admin/hot/dashboard.html"

    def index(self, request, extra_context=None):
        from . import dashboard  # models are not ready when the app config is imported

        context = {"dashboard": dashboard.overview(), **(extra_context or {})}
        return super().index(request, context)


class HotAdminConfig(AdminConfig):
    """Installed instead of ``django.contrib.admin``: every ``admin.register`` lands on
    :class:`HotAdminSite`."""

    default_site = "operations.sites.HotAdminSite"
