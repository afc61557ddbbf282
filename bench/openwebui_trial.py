"""Manual trial: the webchat client against a real Open WebUI (not part of CI).

Open WebUI is not a dependency of dreamscape and is never installed by it. Install it
yourself into a separate venv (torch's CPU build first keeps it small):

    python3 -m venv /tmp/owui/venv
    /tmp/owui/venv/bin/pip install torch==2.13.0      # the CPU build
    /tmp/owui/venv/bin/pip install open-webui

then run this with dreamscape's own Python:

    python bench/openwebui_trial.py --open-webui /tmp/owui/venv/bin/open-webui [--auth]

Everything binds to 127.0.0.1 and runs offline. The trial starts:

* a small OpenAI-compatible model server (SSE streaming when asked) that logs every
  request and answers each prompt with one fixed markdown answer: a path line, a
  python fence with tabs and trailing spaces, a diff fence and a 300-line block;
* Open WebUI (``open-webui serve``) on a fresh DATA_DIR, pointed at that server; with
  ``--auth`` it runs with logins on, the admin is created through its API and the
  ``token`` cookie is imported with ``dreamscape login --cookies``; without it,
  ``WEBUI_AUTH=False`` (single user, no login);

and runs ``dreamscape doctor --probe``, ``sessions`` and ``ask`` (a short prompt with a
tab-indented fence, and a 15,000-character one) on a config it writes, for profile
``auto`` and ``openwebui``. For each ask it checks that the prompt's code reached the
model byte for byte, that ``text`` is the answer's markdown and that every code block
came back exact; it prints one line per check and exits 1 if any failed. Every
process it started is stopped on exit. ``--login-wall SELECTOR`` sets
``[webchat.selectors] login_wall`` (e.g. ``"#auth-page input#password"``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODEL = "fake-coder"
PY = "def greet(name):\n\tif not name:   \n\t\treturn 'nobody'\n\n\treturn f'hi {name}'  "
DIFF = ("--- a/app/main.py\n+++ b/app/main.py\n@@ -1,3 +1,3 @@\n def main():\n"
        "-    return 1\n+    return 2\n ")
BIG = "\n".join(f"line_{i:03d} = {i} * 2  # row {i}" for i in range(1, 301))
ANSWER = (f"Here is the fix.\n\npath: app/main.py\n\n```python\n{PY}\n```\n\n"
          f"And the diff:\n\n```diff\n{DIFF}\n```\n\nA long block:\n\n```python\n{BIG}\n```"
          "\n\nDone.")
ANSWER_CODE = [PY, DIFF, BIG]

CODE_A = ("def add(a, b):\n\t# tab-indented  \n\tresult = a + b   \n\n\n\tif result:\n"
          "\t\treturn result\t# trailing tab\t\n\treturn 0")
PROMPT_A = f"Please review this function.\n\n```python\n{CODE_A}\n```\n\nKeep the tabs."
CODE_B = "def big():\n" + "\n".join(
    f"\tvalue_{i:04d} = compute({i}, 'x' * {i % 7})  " if i % 5 else "" for i in range(400))
PROMPT_B = ("Context: the service must keep every tab.\n" * 75 + "\n```python\n" + CODE_B
            + "\n```\n\nFix the bug in big().")


class FakeModel:
    """An OpenAI-compatible /v1 on 127.0.0.1: /models, /chat/completions (SSE or JSON)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        model = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [
                        {"id": MODEL, "object": "model", "created": 0, "owned_by": "trial"}]})
                else:
                    self._json(404, {"error": {"message": "no such route"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                model.requests.append(body)
                last = body.get("messages", [{}])[-1].get("content", "")
                if "### Task:" in str(last):  # title, tags, follow-ups
                    text = '{"title": "Trial", "tags": [], "follow_ups": []}'
                elif "Reply with exactly this code block" in str(last):  # doctor --probe
                    text = "```" + str(last).split("```", 1)[1].rsplit("```", 1)[0] + "```"
                else:
                    text = ANSWER
                if not body.get("stream"):
                    self._json(200, {"id": "x", "object": "chat.completion", "model": MODEL,
                                     "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant",
                                                              "content": text}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                chunks = [text[i:i + 200] for i in range(0, len(text), 200)]
                try:
                    for chunk in [*chunks, None]:
                        delta = {"content": chunk} if chunk is not None else {}
                        event = {"id": "x", "object": "chat.completion.chunk", "model": MODEL,
                                 "choices": [{"index": 0, "delta": delta,
                                              "finish_reason": None if chunk else "stop"}]}
                        self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                        self.wfile.flush()
                        time.sleep(0.05)
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def streamed_prompts(self) -> list[str]:
        return [str(r["messages"][-1]["content"]) for r in self.requests if r.get("stream")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(url: str, body: object | None = None, timeout: float = 10.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # loopback only
        return json.loads(response.read())


def start_open_webui(binary: str, port: int, data_dir: Path, model_url: str, auth: bool,
                     log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATA_DIR=str(data_dir), WEBUI_AUTH=str(auth),
               OFFLINE_MODE="true", HF_HUB_OFFLINE="1", RAG_EMBEDDING_MODEL_AUTO_UPDATE="false",
               ENABLE_VERSION_UPDATE_CHECK="false", DO_NOT_TRACK="true",
               SCARF_NO_ANALYTICS="true", ANONYMIZED_TELEMETRY="false",
               ENABLE_OLLAMA_API="false", OPENAI_API_BASE_URL=model_url,
               OPENAI_API_KEY="sk-trial", WEBUI_SECRET_KEY="trial-only-secret")
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"open-webui exited with {process.returncode}: see {log}")
        try:
            http_json(f"http://127.0.0.1:{port}/api/config", timeout=2)
            return process
        except OSError:
            time.sleep(1)
    stop(process)
    raise SystemExit(f"open-webui did not answer within 180s: see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: only what it started
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def dreamscape(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    run = subprocess.run([sys.executable, "-c",
                          "import sys; from dreamscape_tui.cli import main; sys.exit(main())",
                          *args], input=stdin, capture_output=True, text=True, env=env,
                         timeout=300)
    return run.returncode, run.stdout, run.stderr


def write_config(path: Path, url: str, profile: str, cookies: Path, wall: str) -> None:
    selectors = f'\n[webchat.selectors]\nlogin_wall = {json.dumps(wall)}\n' if wall else ""
    path.write_text(f'[[models]]\nname = "owui"\nkind = "webchat"\nurl = "{url}"\n'
                    f'profile = "{profile}"\ntimeout_s = 120\n\n[routing]\nladder = ["owui"]\n\n'
                    f'[sessions]\nsize = 1\ncookies_file = "{cookies}"\n{selectors}')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open-webui", required=True, help="the open-webui executable")
    parser.add_argument("--auth", action="store_true", help="logins on, cookie imported")
    parser.add_argument("--login-wall", default="", help="[webchat.selectors] login_wall")
    args = parser.parse_args()

    results: list[tuple[bool, str]] = []

    def check(ok: bool, what: str) -> None:
        results.append((ok, what))
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)

    with tempfile.TemporaryDirectory(prefix="owui-trial-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, XDG_CONFIG_HOME=str(work / "xdg"))
        fake = FakeModel()
        port = free_port()
        webui = start_open_webui(args.open_webui, port, work / "data", fake.url, args.auth,
                                 work / "open-webui.log")
        try:
            base = f"http://127.0.0.1:{port}"
            print(f"Open WebUI {http_json(base + '/api/config')['version']} on {base}, "
                  f"auth={'on' if args.auth else 'off'}", flush=True)
            cookies = work / "cookies.json"
            if args.auth:
                signed = http_json(base + "/api/v1/auths/signup",
                                   {"name": "Trial", "email": "trial@example.invalid",
                                    "password": "trial-password-1"})
                export = work / "export.json"
                # httpOnly false: Open WebUI's page reads the cookie from document.cookie
                export.write_text(json.dumps([{"domain": "127.0.0.1", "path": "/",
                                               "name": "token", "value": signed["token"],
                                               "httpOnly": False, "secure": False}]))
                export.chmod(0o600)
                write_config(work / "login.toml", base, "auto", cookies, "")
                code, _out, err = dreamscape(env, "login", "--config", str(work / "login.toml"),
                                             "--cookies", str(export))
                check(code == 0, f"login --cookies: exit {code} {err.strip()}")
            for profile in ("auto", "openwebui"):
                config = work / f"{profile}.toml"
                write_config(config, f"{base}/?model={MODEL}", profile, cookies, args.login_wall)
                code, out, err = dreamscape(env, "doctor", "--config", str(config), "--probe",
                                            "--json")
                report = json.loads(out)["models"][0] if out.strip() else {}
                probe = (report.get("probe") or {}).get("detail", "")
                check(code == 0, f"[{profile}] doctor --probe: exit {code}, profile "
                      f"{report.get('profile')}, {report.get('state')} "
                      f"{report.get('detail') or ''} {probe} {err.strip()}")
                code, out, err = dreamscape(env, "sessions", "--config", str(config), "--json")
                check(code == 0, f"[{profile}] sessions: exit {code} {out.strip()} {err.strip()}")
                for name, prompt, code_in in (("short", PROMPT_A, CODE_A),
                                              ("15k", PROMPT_B, CODE_B)):
                    sent = len(fake.streamed_prompts())
                    code, out, err = dreamscape(env, "ask", "--config", str(config), "--json", "-",
                                                stdin=prompt)
                    arrived = fake.streamed_prompts()[sent:]
                    check(code == 0, f"[{profile}] ask {name} ({len(prompt)} chars): exit {code} "
                          f"{err.strip()}")
                    check(bool(arrived) and f"\n{code_in}\n" in arrived[-1],
                          f"[{profile}] ask {name}: the prompt's code reached the model exactly")
                    if code != 0:
                        continue
                    answer = json.loads(out)
                    check(answer["text"] == ANSWER,
                          f"[{profile}] ask {name}: text is the answer's markdown")
                    check(answer["code_blocks"] == ANSWER_CODE,
                          f"[{profile}] ask {name}: code blocks exact "
                          f"({[len(c.splitlines()) for c in answer['code_blocks']]} lines)")
        finally:
            stop(webui)
            fake.close()
    failed = [what for ok, what in results if not ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
