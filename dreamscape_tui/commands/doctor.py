"""``dreamscape doctor``: check each chat page against its DOM profile.

What a user runs when a chat site changed: for each webchat model it opens the page
and reports the detected profile, the login state and every selector (matched, with
how many elements; or missing, with look-alike elements found on the page). With
``--probe`` it also sends one short prompt and checks that its code block came back
exact and that the answer's end signal and copy action were found. Exit 0 when every
page is healthy, 3 when one needs attention.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from dreamscape_tui.commands.common import config_for
from dreamscape_tui.commands.sessions import open_pool
from dreamscape_tui.core.config import Config, ModelConfig
from dreamscape_tui.core.errors import ModelError, UsageError
from dreamscape_tui.core.pagecheck import PageInspection
from dreamscape_tui.core.registry import ModelRegistry

EXIT_ATTENTION = 3
PROBE_CODE = 'print("dreamscape doctor")\t# a tab, and two trailing spaces  '
PROBE_PROMPT = ("This is a connectivity check from dreamscape doctor. Reply with exactly "
                "this code block and nothing else:\n\n```python\n" + PROBE_CODE + "\n```\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME", help="check only this [[models]] name")
    parser.add_argument("--probe", action="store_true",
                        help="also send one short prompt and check its code comes back exact")
    parser.add_argument("--json", action="store_true", help="print the JSON report")


def webchat_models(config: Config, name: str | None) -> list[ModelConfig]:
    if name:
        model = ModelRegistry(config).get(name)
        if model.kind != "webchat":
            raise UsageError(f"--model {name}: a {model.kind} model has no chat page to check")
        return [model]
    models = [m for m in config.models if m.kind == "webchat"]
    if not models:
        raise UsageError("no webchat models are configured: nothing to check")
    return models


def run(args: argparse.Namespace) -> int:
    config = config_for(args, None)
    models = webchat_models(config, args.model)
    reports = []
    with open_pool(replace(config, sessions=replace(config.sessions, size=1))) as pool, \
            pool.lease() as session:
        for model in models:
            reports.append(check_model(session.client, model, args.probe))
    if args.json:
        json.dump({"models": reports}, sys.stdout)
        sys.stdout.write("\n")
    else:
        for report in reports:
            print_report(report)
    return 0 if all(r["healthy"] for r in reports) else EXIT_ATTENTION


def check_model(client: Any, model: ModelConfig, probe: bool) -> dict[str, Any]:
    """One model's page: inspected idle, and (``probe``) after a real answer."""
    try:
        page: PageInspection = client.inspect_page(model.url, model.profile)
    except ModelError as exc:
        return {"name": model.name, "url": model.url, "profile": None, "state": "error",
                "detail": str(exc), "roles": {}, "missing": [], "probe": None,
                "healthy": False}
    result = _as_json(model, page)
    if probe and page.state == "healthy":
        result["probe"] = run_probe(client, model)
        if result["probe"]["ok"]:
            after = client.inspect_page(model.url, model.profile, after_answer=True)
            result["roles"].update({r: after.roles[r].to_json() for r in after.required
                                    if r in after.roles})
            result["missing"] += after.missing
    probe_ok = result["probe"] is None or result["probe"]["ok"]
    result["healthy"] = page.state == "healthy" and not result["missing"] and probe_ok
    return result


def _as_json(model: ModelConfig, page: PageInspection) -> dict[str, Any]:
    return {"name": model.name, "url": model.url, "profile": page.profile,
            "state": page.state, "detail": page.detail,
            "roles": {role: report.to_json() for role, report in page.roles.items()},
            "missing": page.missing, "probe": None}


def run_probe(client: Any, model: ModelConfig) -> dict[str, Any]:
    """Send the probe prompt; ok when its code block came back byte for byte."""
    try:
        answer = client.submit_prompt(PROBE_PROMPT, model.url, timeout_s=model.timeout_s,
                                      profile=model.profile)
    except ModelError as exc:
        return {"ok": False, "detail": str(exc)}
    if PROBE_CODE in answer.code_blocks:
        return {"ok": True, "detail": f"the code came back exact in {answer.seconds:.1f}s"}
    got = answer.code_blocks[0] if answer.code_blocks else "no code block"
    return {"ok": False, "detail": f"the code did not come back exact: got {got!r}"}


def print_report(report: dict[str, Any]) -> None:
    profile = report["profile"] or "?"
    print(f"{report['name']}  {report['url']}")
    print(f"  profile {profile}, {report['state']}"
          + (f": {report['detail']}" if report["detail"] else ""))
    for role, entry in report["roles"].items():
        if entry["matched"]:
            print(f"  {role:<18} ok       {entry['matched']} ({entry['count']})")
        elif role in report["missing"]:
            tried = " | ".join(t["selector"] for t in entry["tried"])
            print(f"  {role:<18} MISSING  tried {tried}")
            looks = ", ".join(f"{c['selector']} ({c['count']})" for c in entry["candidates"])
            print(f"  {'':<18}          look-alikes on the page: {looks or 'none'}")
        else:
            print(f"  {role:<18} -        not on the page now")
    if report["probe"] is not None:
        word = "ok" if report["probe"]["ok"] else "FAILED"
        print(f"  {'probe':<18} {word:<8} {report['probe']['detail']}")
    print(f"  => {'healthy' if report['healthy'] else 'needs attention'}")
