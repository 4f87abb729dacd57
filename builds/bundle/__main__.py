"""``python -m builds.bundle DIR [-o OUT]``: bundle a Hot project without the Hot CLI.

Prints the BLAKE3 bundle hash (the upload's ``hash``) on stdout and a summary on stderr.
``python manage.py bundle`` does the same.
"""

import argparse
import sys

from .writer import BundleWriteError, summary, write_bundle_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m builds.bundle", description="Bundle a Hot project as `hot build` does."
    )
    parser.add_argument("directory", help="the Hot project (with hot/src/ or a hot.hot)")
    parser.add_argument("-o", "--output", help="zip to write (default: <project>.hot.zip)")
    parser.add_argument("--name", help="project name (default: hot.hot's, else the folder's)")
    args = parser.parse_args(argv)
    try:
        bundle, target = write_bundle_file(args.directory, args.output, name=args.name)
    except (BundleWriteError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    print(summary(bundle, target), file=sys.stderr)  # noqa: T201
    print(bundle.bundle_hash)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
