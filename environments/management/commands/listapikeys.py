"""List API keys (never their secrets): id, environment, name, permissions, use and status."""

from django.core.management.base import BaseCommand, CommandError

from environments.models import ApiKey

COLUMNS = ("KEY ID", "ENVIRONMENT", "NAME", "STATUS", "LAST USED", "PERMISSIONS")


class Command(BaseCommand):
    help = "List API keys with their environment, status and permissions (no secrets)."

    def add_arguments(self, parser):
        parser.add_argument("--env", help="Only keys of this environment (name)")
        parser.add_argument("--org", help="Only keys of this organization (name)")
        parser.add_argument(
            "--all", action="store_true", help="Include revoked keys (listed as revoked)"
        )

    def handle(self, *args, env=None, org=None, all=False, **options):
        keys = ApiKey.objects.select_related("environment__organization").order_by(
            "environment__organization__name", "environment__name", "created_at"
        )
        if env:
            keys = keys.filter(environment__name=env)
        if org:
            keys = keys.filter(environment__organization__name=org)
        if not all:
            keys = keys.filter(revoked_at__isnull=True)
        rows = [_row(key) for key in keys]
        if not rows:
            raise CommandError("No API keys match" + ("" if all else " (revoked keys: --all)"))
        widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS) - 1)]
        for row in [COLUMNS, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]).rstrip())


def _row(key: ApiKey) -> tuple[str, ...]:
    environment = key.environment
    permissions = ", ".join(
        f"{resource} {'/'.join(actions)}" for resource, actions in key.permissions.items()
    )
    return (
        str(key.id),
        f"{environment.organization.name}/{environment.name}",
        key.name or "-",
        "revoked" if key.revoked_at else "active",
        key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never",
        permissions or "(none)",
    )
