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
    root = project_root(args.path)
    config = config_for(args, root)
    report = run_checks(root, config.checks, source_files(root, config.scanner))
    if args.json:
        json.dump({"failures": [f.to_json() for f in report.failures]}, sys.stdout)
        sys.stdout.write("\n")
    elif not report.failures:
        print("no failures")
    else:
        for f in report.failures:
            line = f":{f.line}" if f.line else ""
            print(f"{f.kind:<8} {f.path}{line}  {f.message}")
        print(f"\n{len(report.failures)} failing files")
    return 0
