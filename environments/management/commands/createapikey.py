"""Issue an API key; the token is the last line of output (for scripts and tests)."""

import json

from django.core.management.base import BaseCommand, CommandError

from environments.services import DEFAULT_ORGANIZATION, api_key_issue, environment_ensure
from hotapi.errors import InvalidInput


class Command(BaseCommand):
    help = "Create an API key for an environment (created if missing) and print its token."

    def add_arguments(self, parser):
        parser.add_argument("--env", required=True, help="Environment name")
        parser.add_argument("--name", default="", help="Label for the key")
        parser.add_argument("--org", default=DEFAULT_ORGANIZATION, help="Organization name")
        parser.add_argument(
            "--permissions",
            help='JSON permission map, e.g. \'{"event:*": ["create"], "stream:*": ["read"]}\' '
            '(default: full access, {"*:*": ["*"]})',
        )

    def handle(self, *args, env: str, name: str, org: str, permissions=None, **options):
        try:
            granted = None if permissions is None else json.loads(permissions)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--permissions is not JSON: {exc}") from None
        environment = environment_ensure(name=env, organization_name=org)
        try:
            issued = api_key_issue(environment=environment, name=name, permissions=granted)
        except InvalidInput as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(
            f"Created API key {issued.api_key.id} for environment '{environment.name}'. "
            "Store the token now; it is not shown again."
        )
        self.stdout.write(issued.token)
