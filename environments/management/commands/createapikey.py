"""Issue an API key; the token is the last line of output (for scripts and tests)."""

from django.core.management.base import BaseCommand

from environments.services import DEFAULT_ORGANIZATION, api_key_issue, environment_ensure


class Command(BaseCommand):
    help = "Create an API key for an environment (created if missing) and print its token."

    def add_arguments(self, parser):
        parser.add_argument("--env", required=True, help="Environment name")
        parser.add_argument("--name", default="", help="Label for the key")
        parser.add_argument("--org", default=DEFAULT_ORGANIZATION, help="Organization name")

    def handle(self, *args, env: str, name: str, org: str, **options):
        environment = environment_ensure(name=env, organization_name=org)
        issued = api_key_issue(environment=environment, name=name)
        self.stderr.write(
            f"Created API key {issued.api_key.id} for environment '{environment.name}'. "
            "Store the token now; it is not shown again."
        )
        self.stdout.write(issued.token)
