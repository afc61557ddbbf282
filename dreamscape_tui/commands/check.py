"""``dreamscape check``: find failing files (syntax, tests, custom commands)."""

from __future__ import annotations

import argparse
import json
import sys

from dreamscape_tui.commands.common import config_for, project_root
from dreamscape_tui.core.checks import run_checks
from dreamscape_tui.core.project import source_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="project directory")
    parser.add_argument("--json", action="store_true", help="print the JSON report")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every check ran (whatever it found), 1 when a check could not run."""
    root = project_root(args.path)
    config = config_for(args, root)
    report = run_checks(root, config.checks, source_files(root, config.scanner))
    if args.json:
        json.dump(report.to_json(), sys.stdout)
        sys.stdout.write("\n")
    else:
        for f in report.failures:
            line = f":{f.line}" if f.line else ""
            print(f"{f.kind:<8} {f.path}{line}  {f.message}")
        if report.failures:
            print(f"\n{len(report.failures)} failing files")
        elif not report.errors:
            print("no failures")
    for error in report.errors:
        print(f"dreamscape: a check could not run: {error}", file=sys.stderr)
    return 1 if report.errors else 0
