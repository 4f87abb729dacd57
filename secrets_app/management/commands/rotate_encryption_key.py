"""Re-encrypt every context value under the current master key.

Rotation: set HOT_ENCRYPTION_KEY to the new key and HOT_ENCRYPTION_OLD_KEYS to the previous
one(s), restart, run this command, then drop the old key once it reports nothing left.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from secrets_app.crypto import keyring
from secrets_app.models import ContextVariable
from secrets_app.services import context_rotate_all


class Command(BaseCommand):
    help = "Re-encrypt all context variables under the primary HOT_ENCRYPTION_KEY."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        try:
            primary_id, ring = keyring()
        except ImproperlyConfigured as exc:  # no or malformed HOT_ENCRYPTION_KEY
            raise CommandError(str(exc)) from None
        missing = (
            ContextVariable.objects.exclude(key_id__in=list(ring))
            .values_list("key_id", flat=True)
            .distinct()
        )
        missing = sorted(set(missing))
        if missing:
            self.stderr.write(
                "Values sealed by unknown master keys "
                f"({', '.join(missing)}): add them to HOT_ENCRYPTION_OLD_KEYS first."
            )
            raise SystemExit(1)
        rotated = context_rotate_all(batch_size=batch_size)
        self.stdout.write(f"Re-encrypted {rotated} context variable(s) under key {primary_id}.")
