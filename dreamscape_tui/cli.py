"""The ``dreamscape`` console script.

``dreamscape [PATH]`` opens the TUI; ``dreamscape COMMAND ...`` runs a command. Every
user error (bad usage, config, path) exits 2 with one line on stderr and no traceback;
"needs attention" exits 3; any other failure exits 1 with one line. Commands live in
``dreamscape_tui.commands`` and are imported only when run, so ``scan`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from dreamscape_tui.core.errors import UsageError, UserError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_ATTENTION = 0, 1, 2, 3

# command name -> (module in dreamscape_tui.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("scan", "rank a project's files by radon metrics"),
    "check": ("check", "find failing files: syntax errors, failing tests, custom checks"),
    "heal": ("heal", "heal failing files with a model (--headless: without the TUI, "
                     "--watch: keep healing saved files)"),
    "undo": ("undo", "restore the file a heal changed"),
    "ask": ("ask", "send one prompt to a model"),
    "sessions": ("sessions", "start the browser pool and show each session's health"),
    "login": ("login", "store the chat site's login cookies"),
    "models": ("models", "list the models and the escalation ladder"),
    "demo": ("demo", "the full loop offline on a bundled sample project"),
    "doctor": ("doctor", "check each chat page against its DOM profile"),
}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2.

    As docs/architecture.md#exit-codes asks.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def add_config_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="a config file (beats the others)")


def build_parser(command: str | None) -> Parser:
    """The parser of one command, or of the TUI entry when ``command`` is None."""
    if command is None:
        listing = "\n".join(f"  {name:<10} {text}" for name, (_m, text) in COMMANDS.items())
        parser = Parser(
            prog="dreamscape",
            description="Keep Python projects healthy from the terminal.",
            epilog=f"commands (dreamscape COMMAND --help):\n{listing}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("path", nargs="?", default=".", help="project directory")
        parser.add_argument("--read-only", action="store_true",
                            help="show the project without healing (beside a process "
                                 "that holds its lock)")
        add_config_flag(parser)
        return parser
    module_name, text = COMMANDS[command]
    parser = Parser(prog=f"dreamscape {command}", description=text)
    add_config_flag(parser)
    module = importlib.import_module(f"dreamscape_tui.commands.{module_name}")
    module.add_arguments(parser)
    return parser


def run(argv: Sequence[str]) -> int:
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv[1:] if command else argv)
    if command is None:
        from dreamscape_tui.commands.tui import run_tui

        return run_tui(args)
    module = importlib.import_module(f"dreamscape_tui.commands.{COMMANDS[command][0]}")
    code: int = module.run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: map every user error to its exit code and one line on stderr."""
    try:
        return run(sys.argv[1:] if argv is None else list(argv))
    except UserError as exc:
        print(f"dreamscape: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("dreamscape: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into `head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("DREAMSCAPE_DEBUG"):
            raise
        name = type(exc).__name__
        print(f"dreamscape: internal error: {name}: {exc} (DREAMSCAPE_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
