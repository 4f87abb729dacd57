"""Revoke an API key by its id (or by its token: only the id part is read)."""

import re
import uuid

from django.core.management.base import BaseCommand, CommandError

from environments.models import ApiKey
from environments.services import api_key_revoke

_TOKEN_ID = re.compile(r"^hot_([0-9a-f]{32})_")


def _key_id(reference: str) -> uuid.UUID:
    match = _TOKEN_ID.match(reference)
    try:
        return uuid.UUID(match.group(1) if match else reference)
    except ValueError:
        raise CommandError("Not an API key id (see `manage.py listapikeys`)") from None


class Command(BaseCommand):
    help = (
        "Revoke an API key: it, and the sessions and service keys it issued, stop working at "
        "once. Give the key id shown by listapikeys (or the token itself)."
    )

    def add_arguments(self, parser):
        parser.add_argument("key", help="Key id (or token)")

    def handle(self, *args, key: str, **options):
        key_id = _key_id(key.strip())
        api_key = ApiKey.objects.select_related("environment").filter(pk=key_id).first()
        if api_key is None:
            raise CommandError(f"No API key with id {key_id}")
        if api_key.revoked_at is not None:
            self.stdout.write(f"API key {key_id} was already revoked at {api_key.revoked_at}.")
            return
        api_key_revoke(api_key=api_key)
        self.stdout.write(
            f"Revoked API key {key_id} ({api_key.name or 'unnamed'}) of environment "
            f"'{api_key.environment.name}'; its sessions and service keys stop working too."
        )
