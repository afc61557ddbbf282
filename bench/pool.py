"""Benchmark: the persistent SessionPool against a fresh browser per prompt.

Baseline: what the scripts Dreamscape replaces did, a new WebDriver per prompt (start
Chromium, submit, quit), on 2 worker threads. Then the same prompts through a
SessionPool of 2 (browsers started once, 2 worker threads). Both talk to the offline
practice ChatGPT page with small fixed-latency replies, so the difference is browser
lifecycle cost. Also measures the memory of one pooled session: the sum of Pss over
its Chromium process tree (``/proc/<pid>/smaps_rollup``).

Goals: throughput ratio >= 3x; <= 300 MiB PSS per session.

    python bench/pool.py [--prompts N] [--size N]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import threading
import time
from collections.abc import Callable

from dreamscape_tui.core.browser import cmdline
from dreamscape_tui.core.client import OpenAIClient
from dreamscape_tui.core.config import Config, SessionsConfig, WebchatConfig
from dreamscape_tui.core.pool import SessionPool
from dreamscape_tui.practice import ChatServer, Reply


def reply(prompt: str, model: str) -> Reply:
    """A small answer with fixed latency: 50 ms thinking, 3 chunks 10 ms apart."""
    return Reply(text=f"ok: {prompt}", chunk_chars=4, chunk_delay_s=0.01, delay_before_s=0.05)


def run_threads(count: int, workers: int, job: Callable[[int], None]) -> float:
    """Wall time of ``count`` jobs spread over ``workers`` threads."""
    todo = list(range(count))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                index = todo.pop(0)
            try:
                job(index)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"a prompt failed: {errors[0]}")
    return time.perf_counter() - started


def pss_mib(pids: list[int]) -> float:
    """Sum of Pss over ``pids`` in MiB (processes that vanished count 0)."""
    total_kib = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def chromium_pids(client: OpenAIClient) -> list[int]:
    """The session's Chromium processes (its chromedriver excluded)."""
    return [p for p in client.process_ids() if "chromedriver" not in " ".join(cmdline(p)[:1])]


def fresh_driver_per_prompt(
    sessions: SessionsConfig, webchat: WebchatConfig, url: str, count: int, workers: int
) -> float:
    def job(i: int) -> None:
        client = OpenAIClient(sessions, webchat, session_id=f"old{i}")
        try:
            client.start()
            client.submit_prompt(f"prompt {i}", url, timeout_s=60)
        finally:
            client.quit()

    return run_threads(count, workers, job)


def pooled(
    sessions: SessionsConfig, webchat: WebchatConfig, url: str, count: int, workers: int
) -> tuple[float, float, list[float], float]:
    """(start seconds, prompts seconds, PSS MiB per session, chromedriver MiB)."""
    clients: list[OpenAIClient] = []

    def factory(session_id: str) -> OpenAIClient:
        clients.append(OpenAIClient(sessions, webchat, session_id=session_id))
        return clients[-1]

    with SessionPool(sessions, webchat, client_factory=factory) as pool:
        started = time.perf_counter()
        pool.start()
        start_s = time.perf_counter() - started

        def job(i: int) -> None:
            pool.submit(f"prompt {i}", url, timeout_s=60)

        prompts_s = run_threads(count, workers, job)
        memory = [pss_mib(chromium_pids(c)) for c in clients]
        drivers = [p for c in clients for p in c.process_ids() if p not in chromium_pids(c)]
        driver_mib = pss_mib(drivers) / max(1, len(clients))
    return start_s, prompts_s, memory, driver_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--size", type=int, default=2, help="sessions and worker threads")
    args = parser.parse_args()

    with ChatServer(reply) as server:
        base = Config()
        sessions = dataclasses.replace(
            base.sessions, size=args.size, home_url=server.url, health_interval_s=3600.0,
            max_prompts_per_session=10_000,
        )
        webchat = base.webchat
        print(f"{args.prompts} prompts, {args.size} worker threads, practice page {server.url}")

        old_s = fresh_driver_per_prompt(sessions, webchat, server.url, args.prompts, args.size)
        print(f"fresh driver per prompt: {old_s:6.2f} s  ({args.prompts / old_s:5.2f} prompts/s)")

        start_s, pool_s, memory, driver_mib = pooled(
            sessions, webchat, server.url, args.prompts, args.size
        )
        total_s = start_s + pool_s
        print(f"session pool of {args.size}:      {pool_s:6.2f} s  "
              f"({args.prompts / pool_s:5.2f} prompts/s; +{start_s:.2f} s one-time start)")
        print(f"throughput ratio: {old_s / pool_s:.1f}x (goal >= 3x); "
              f"including the pool's start: {old_s / total_s:.1f}x")
        per_session = ", ".join(f"{m:.0f}" for m in memory)
        print(f"PSS per session (Chromium tree): {per_session} MiB; "
              f"mean {statistics.mean(memory):.0f} MiB (goal <= 300 MiB); "
              f"chromedriver +{driver_mib:.0f} MiB")


if __name__ == "__main__":
    main()
