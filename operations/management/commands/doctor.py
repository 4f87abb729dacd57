"""``manage.py doctor``: check the configuration and every service the Hot API needs."""

from django.core.management.base import BaseCommand, CommandError

from operations.doctor import diagnose


class Command(BaseCommand):
    help = (
        "Check the configuration (DEBUG, SECRET_KEY, ALLOWED_HOSTS, encryption key), the "
        "database and its migrations, the broker, the build storage and the workers; print "
        "what is wrong and how to fix it. Exits non-zero when something is wrong."
    )

    def handle(self, *args, **options):
        checks = diagnose()
        for check in checks:
            mark = self.style.SUCCESS("ok  ") if check.ok else self.style.ERROR("FAIL")
            self.stdout.write(f"{mark} {check.name}: {check.detail}")
            if not check.ok and check.fix:
                self.stdout.write(f"     fix: {check.fix}")
        failed = [check.name for check in checks if not check.ok]
        if failed:
            raise CommandError(f"{len(failed)} problem(s): {', '.join(failed)}")
        self.stdout.write("Everything checked is in order.")
