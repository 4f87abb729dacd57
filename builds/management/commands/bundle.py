"""``manage.py bundle DIR -o OUT``: a Hot project directory made into a bundle to upload."""

from django.core.management.base import BaseCommand, CommandError

from builds.bundle.writer import BundleWriteError, summary, write_bundle_file


class Command(BaseCommand):
    help = (
        "Bundle a Hot project directory as the hot CLI does (zstd entries, manifest.hot, "
        "BLAKE3 bundle hash). Prints the bundle hash, the upload's `hash`, on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="The Hot project (with hot/src/ or a hot.hot)")
        parser.add_argument("-o", "--output", help="Zip to write (default: <project>.hot.zip)")
        parser.add_argument("--name", help="Project name (default: hot.hot's, else the folder's)")

    def handle(self, *args, directory: str, output: str | None, name: str | None, **options):
        try:
            bundle, target = write_bundle_file(directory, output, name=name)
        except (BundleWriteError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(summary(bundle, target))
        self.stdout.write(bundle.bundle_hash)
