"""Command line: `python -m hotlang check PATH...` and `python -m hotlang test PATH...`."""

from __future__ import annotations

import argparse
import os
import sys

from .analysis import unresolved_names
from .localhost import LocalHooks
from .program import Program, gc_paused
from .runtime import Limits, run_tests


def collect_files(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".hot"))
        elif os.path.exists(p):
            files.append(p)
        else:
            print(f"{p}: no such file or directory", file=sys.stderr)
    return files


def load(paths):
    with gc_paused():
        return _load(paths)


def _load(paths):
    program = Program()
    files = collect_files(paths)
    failed_files = set()
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            program.errors.append({"file": f, "line": 0, "col": 0, "message": str(e)})
            failed_files.add(f)
            continue
        if not program.add_source(f, text):
            failed_files.add(f)
    program.compile()
    for e in program.errors:
        failed_files.add(e["file"])
    return program, files, failed_files


def cmd_check(paths):
    """Parse, compile and resolve: an unknown name is an error at its use; a library name this
    runtime lacks is reported (it fails only where it is used when the code runs)."""
    program, files, failed = load(paths)
    unknown, unsupported = unresolved_names(program)
    for e in program.errors + unknown:
        print(f"{e['file']}:{e['line']}:{e['col']}: error: {e['message']}")
        failed.add(e["file"])
    for w in unsupported:
        print(f"{w['file']}:{w['line']}:{w['col']}: unsupported: {w['message']}")
    print(f"{len(unknown)} unknown names, {len(unsupported)} unsupported uses")
    print(f"{len(files) - len(failed)} parsed, {len(failed)} failed")
    return 1 if failed or not files else 0


def cmd_test(paths, verbose=False, resources=(), allow_hosts=(), files_dir=None):
    program, files, failed_files = load(paths)
    for e in program.errors:
        print(f"{e['file']}:{e['line']}:{e['col']}: {e['message']}")
    limits = Limits(max_steps=50_000_000, max_seconds=60, max_depth=5_000)
    results = run_tests(program, limits, LocalHooks(resources, allow_hosts, files_dir))
    passed = failed = 0
    for r in results:
        if r.passed:
            passed += 1
            if verbose:
                print(f"PASS {r.name}")
        else:
            failed += 1
            print(f"FAIL {r.name} ({r.file}:{r.line})")
            for msg in r.failures[:5]:
                print(f"    {msg}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or failed_files else 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m hotlang", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="parse and resolve Hot files")
    c.add_argument("paths", nargs="+")
    t = sub.add_parser("test", help='run functions marked meta ["test"]')
    t.add_argument("paths", nargs="+")
    t.add_argument("-v", "--verbose", action="store_true")
    t.add_argument(
        "--resources",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory of resources for ::hot::resource (repeatable; the first wins)",
    )
    t.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="ENTRY",
        help="a host, address or CIDR network (optionally :port) the code may reach although "
        "private or loopback (repeatable)",
    )
    t.add_argument(
        "--files",
        metavar="DIR",
        help="the directory ::hot::file reads and writes (default: a temporary directory "
        "removed afterwards)",
    )
    args = ap.parse_args(argv)
    if args.cmd == "check":
        return cmd_check(args.paths)
    return cmd_test(args.paths, args.verbose, args.resources, args.allow_host, args.files)
