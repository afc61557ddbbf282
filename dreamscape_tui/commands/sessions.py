"""``dreamscape sessions``: start the pool, validate every session, print its health."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from dreamscape_tui.commands.common import config_for
from dreamscape_tui.core.config import Config, webchat_urls
from dreamscape_tui.core.cookies import default_cookies_path, load_cookies
from dreamscape_tui.core.pool import SessionPool, install_signal_handlers

EXIT_ATTENTION = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the JSON report")


@contextmanager
def open_pool(config: Config) -> Iterator[SessionPool]:
    """A started pool with the saved login cookies, shut down on exit or signal."""
    cookies_path = default_cookies_path(config.sessions)
    cookies = load_cookies(cookies_path) if cookies_path.exists() else None
    with SessionPool(config.sessions, config.webchat, cookies=cookies,
                     sites=webchat_urls(config)) as pool:
        restore = install_signal_handlers(pool)
        try:
            yield pool
        finally:
            restore()


def run(args: argparse.Namespace) -> int:
    config = config_for(args, None)
    with open_pool(config) as pool:
        pool.start(wait=True)
        rows = [s.to_json() for s in pool.check_health()]
    if args.json:
        json.dump({"sessions": rows}, sys.stdout)
        sys.stdout.write("\n")
    else:
        for row in rows:
            latency = "-" if row["latency_ms"] is None else f"{row['latency_ms']} ms"
            detail = f"  {row['detail']}" if row["detail"] else ""
            print(f"{row['id']:<6} {row['state']:<12} {row['driver']:<7} {latency:>10}{detail}")
    healthy = all(row["state"] == "healthy" for row in rows)
    return 0 if healthy and rows else EXIT_ATTENTION
