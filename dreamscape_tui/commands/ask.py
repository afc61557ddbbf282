"""``dreamscape ask``: one prompt through the registry (and the pool, for webchat models)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from dreamscape_tui.commands.common import config_for
from dreamscape_tui.commands.sessions import open_pool
from dreamscape_tui.core.errors import UsageError
from dreamscape_tui.core.registry import ModelRegistry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", help="the prompt, or - to read it from stdin")
    parser.add_argument("--model", metavar="NAME", help="a [[models]] name (default: "
                        "the first rung of the ladder)")
    parser.add_argument("--json", action="store_true", help="print the JSON answer")


def read_prompt(arg: str) -> str:
    prompt = sys.stdin.read() if arg == "-" else arg
    if not prompt.strip():
        raise UsageError("the prompt is empty" + (" (nothing on stdin)" if arg == "-" else ""))
    return prompt


def run(args: argparse.Namespace) -> int:
    config = config_for(args, None)
    registry = ModelRegistry(config)
    model = registry.get(args.model) if args.model else registry.default
    prompt = read_prompt(args.prompt)
    if registry.needs_browser(model):
        one_session = replace(config, sessions=replace(config.sessions, size=1))
        with open_pool(one_session) as pool:
            answer = registry.process_with_model(pool, prompt, model)
    else:
        answer = registry.process_with_model(None, prompt, model)
    if args.json:
        json.dump(answer.to_json(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(answer.text.rstrip("\n") + "\n")
    return 0
