"""Delete stored bundles that no build refers to."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from builds.services import build_storage_gc


class Command(BaseCommand):
    help = (
        "Delete files in the build storage (local folder or S3 bucket) that no build refers "
        "to. Files younger than --min-age-minutes are kept (an upload may be committing)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List the orphaned files, delete nothing"
        )
        parser.add_argument(
            "--min-age-minutes",
            type=int,
            default=60,
            help="Keep orphans younger than this (default: %(default)s)",
        )

    def handle(self, *args, dry_run: bool, min_age_minutes: int, **options):
        if min_age_minutes < 1:
            raise CommandError("--min-age-minutes must be at least 1")
        try:
            sweep = build_storage_gc(
                min_age=timedelta(minutes=min_age_minutes),
                dry_run=dry_run,
                progress=lambda n: self.stderr.write(f"... {n} files examined"),
            )
        except Exception as exc:  # local or S3 errors alike: a message, not a traceback
            raise CommandError(
                f"Could not read the build storage ({type(exc).__name__}: {exc}). Check "
                "HOT_STORAGE_DIR or HOT_S3_*; `manage.py doctor` checks the storage."
            ) from None
        for key in sweep.orphans:
            self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {key}")
        self.stdout.write(
            f"Examined {sweep.examined} stored file(s): {len(sweep.orphans)} orphaned"
            f"{' (dry run: nothing deleted)' if dry_run else f', {sweep.deleted} deleted'}, "
            f"{sweep.too_recent} too recent to judge."
        )
