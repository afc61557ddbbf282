"""``dreamscape demo``: the whole loop offline, in about a minute.

A sample project with four faults is copied to a temporary folder, a practice chat
page with scripted answers is served on 127.0.0.1, and the TUI opens on the project
with two "practice" models driven through headless Chromium, exactly as real chat
models are. Three files heal in the background; one escalates for review. Nothing
leaves the machine, and the user's own config, cookies and projects are not touched.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from dreamscape_tui.commands.common import config_for
from dreamscape_tui.core.config import Config, ModelConfig, RoutingConfig
from dreamscape_tui.core.events import EventSink

if TYPE_CHECKING:
    from dreamscape_tui.core.pool import SessionPool

MODELS = ("practice-mini", "practice-pro")
HINT_HEADING = "## A hint from the developer"  # how core.prompt introduces a user's hint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true",
                        help="keep the sample project afterwards (its path is printed)")


def demo_config(base: Config, url: str) -> Config:
    """``base`` with the practice page's two models, a ladder of both, and a pool on it."""
    models = tuple(ModelConfig(name=name, kind="webchat", url=f"{url}?model={name}",
                               timeout_s=60.0) for name in MODELS)
    sessions = replace(base.sessions, size=2, headless=True, driver="local", home_url=url,
                       profile_dir="", cookies_file="", debugger_address="")
    return replace(base, models=models, routing=RoutingConfig(ladder=MODELS),
                   sessions=sessions)


def practice_answer(prompt: str) -> str:
    """The sample's scripted answers, plus what a real model would do with a hint.

    A retry of ``inventory.py`` with any hint from the developer gets the right fix, so
    the demo's one review can end in a heal, not only in a reject.
    """
    from dreamscape_tui.practice.sample import SAMPLE_FILES, scripted_answer, target_of

    if HINT_HEADING in prompt and target_of(prompt) == "inventory.py":
        fixed = SAMPLE_FILES["inventory.py"].replace("stock - amount", "stock + amount")
        return f"Following your hint, restock adds to the stock:\n\n```python\n{fixed}```"
    return scripted_answer(prompt)


def practice_pool(config: Config, sink: EventSink) -> SessionPool:
    """A browser pool without the user's saved cookies: they belong to the real site."""
    from dreamscape_tui.core.pool import SessionPool

    return SessionPool(config.sessions, config.webchat, sink)


def run(args: argparse.Namespace) -> int:
    from dreamscape_tui.practice import ChatServer, Reply
    from dreamscape_tui.practice.sample import write_sample

    tmp = Path(tempfile.mkdtemp(prefix="dreamscape-demo-"))
    root = write_sample(tmp / "sample-shop")
    server = ChatServer(lambda prompt, model: Reply(text=practice_answer(prompt))).start()
    try:
        config = demo_config(config_for(args, root), server.url)
        from dreamscape_tui.app import create_app  # textual is imported only for the TUI

        app = create_app(root, config, session_factory=practice_pool, demo=True)
        try:
            app.run()
        finally:
            app.engine.close()
    finally:
        server.stop()
        if args.keep:
            print(f"dreamscape demo: the sample project is in {root}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
