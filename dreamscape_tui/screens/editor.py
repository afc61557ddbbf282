"""Hand the terminal to ``$VISUAL`` / ``$EDITOR`` for one file, then take it back."""

from __future__ import annotations

import shlex
import subprocess
from os import environ
from pathlib import Path
from typing import Any

from textual.app import App, SuspendNotSupported


def open_in_editor(app: App[Any], path: Path) -> bool:
    """Run the editor on ``path`` with the app suspended; False (and a toast) on failure.

    Over SSH this is the natural way to fix a file by hand mid-review: the editor gets
    the real terminal, and the dashboard comes back exactly as it was.
    """
    editor = environ.get("VISUAL") or environ.get("EDITOR") or "vi"
    argv = [*shlex.split(editor), str(path)]
    try:
        try:
            with app.suspend():
                subprocess.run(argv, check=False)
        except SuspendNotSupported:
            if not app.is_headless:
                app.notify("This terminal cannot hand over to an editor", severity="error")
                return False
            # Headless (tests): there is no terminal to hand over; run it as it is.
            subprocess.run(argv, check=False, stdin=subprocess.DEVNULL, capture_output=True)
    except OSError as exc:
        app.notify(f"{editor}: {exc.strerror or exc}", title="Editor", severity="error")
        return False
    app.refresh(layout=True)
    return True
