"""The heal journal: durable, recoverable, and a transition costs the same at any size."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.healcodec import item_to_dict
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import Attempt, Candidate, HealItem, HealState, new_item
from dreamscape_tui.core.journal import JournalError


def failure(n: int, path: str = "") -> Failure:
    return Failure(f"f{n}", path or f"pkg/m{n}.py", "test", "pytest", f"assert {n}")


def heal_some(heals: HealStore, count: int) -> list[HealItem]:
    """Queue ``count`` failures and take the first through a full attempt."""
    items = [heals.enqueue(failure(n), cc_max=n % 7) for n in range(count)]
    assert all(items)
    item = heals.claim_next()
    assert item is not None
    item = heals.save(replace(item, attempts=1, model="m", base_hash="abc",
                              log=(Attempt(1, "m", "failed", "1 test fails", "-a\n+b", "s1"),),
                              best=Candidate("x = 1\n", 1, "abc")))
    heals.save(replace(item, state=HealState.RETRYING, reason="1 test fails"))
    heals.record_outcome("m", "test", False)
    heals.record_apply(item.id, path=item.path, backup="b", state="applying",
                       before_hash="abc", after_hash="def")
    return heals.items()


def test_everything_survives_a_reopen(tmp_path: Path) -> None:
    heals = HealStore(tmp_path / "heals.jsonl")
    before = heal_some(heals, 5)
    fixes = heals.applied_fixes()
    heals.close()
    again = HealStore(tmp_path / "heals.jsonl")
    assert again.items() == before
    assert again.applied_fixes() == fixes
    assert again.learned_order("test", min_tries=1) == ["m"]
    [retrying] = again.items((HealState.RETRYING,))
    assert retrying.log[0].signature == "s1" and retrying.best == Candidate("x = 1\n", 1, "abc")


def test_an_active_failure_is_queued_once_and_ids_keep_growing(tmp_path: Path) -> None:
    heals = HealStore(tmp_path / "heals.jsonl")
    first = heals.enqueue(failure(1), 0)
    assert first is not None and first.id == 1
    assert heals.enqueue(failure(1), 0) is None  # already being healed
    heals.update(first.id, state=HealState.ESCALATED)
    assert heals.enqueue(failure(1), 0) is None  # waiting for a person: not healed again
    heals.update(first.id, state=HealState.HEALED)
    second = heals.enqueue(failure(1), 0)
    assert second is not None and second.id == 2
    assert second.priority[1] == -1  # the file failed before: it ranks higher


def test_claim_takes_the_most_urgent_then_the_oldest(tmp_path: Path) -> None:
    heals = HealStore(tmp_path / "heals.jsonl")
    heals.enqueue(failure(1), 3)
    heals.enqueue(Failure("s", "broken.py", "syntax", "syntax", "bad"), 0)
    heals.enqueue(failure(2), 9)
    order = []
    while (item := heals.claim_next()) is not None:
        order.append(item.path)
        assert item.state is HealState.RUNNING
    assert order == ["broken.py", "pkg/m2.py", "pkg/m1.py"]


def test_a_torn_last_line_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    before = heal_some(heals, 3)
    heals.close()
    with path.open("ab") as fh:  # a process killed halfway through an append
        fh.write(b'{"op":"set","id":1,"fields":{"state":"hea')
    again = HealStore(path)
    assert again.items() == before
    assert again.recovered_to is None
    again.update(1, state=HealState.HEALED)  # and the journal goes on cleanly
    again.close()
    assert HealStore(path).get(1).state is HealState.HEALED  # type: ignore[union-attr]


def test_corruption_before_the_end_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    heals.enqueue(failure(1), 0)
    heals.enqueue(failure(2), 0)
    heals.close()
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"\x00garbage\n" + b"".join(lines[1:]))
    again = HealStore(path)
    assert again.recovered_to == tmp_path / "heals.jsonl.corrupt-1"
    assert again.recovered_to.read_bytes().count(b"garbage") == 1  # kept for a person
    assert [i.path for i in again.items()] == ["pkg/m1.py"]  # what came before it


def test_a_transition_costs_one_short_line_at_any_size(tmp_path: Path) -> None:
    """10 items or 10,000: one state change appends the same bytes, never a rewrite."""
    written = {}
    for count in (10, 10_000):
        path = tmp_path / f"{count}.jsonl"
        path.write_text("".join(  # a journal of `count` queued items, as enqueue writes it
            json.dumps({"op": "item", "item": item_to_dict(new_item(n + 1, failure(n), 0, 0))})
            + "\n" for n in range(count)))
        heals = HealStore(path)
        inode, size = path.stat().st_ino, path.stat().st_size
        heals.update(7, state=HealState.RUNNING)
        assert path.stat().st_ino == inode  # appended, not replaced
        written[count] = path.stat().st_size - size
        heals.close()
    assert written[10] == written[10_000] < 100


def test_compaction_bounds_the_file_and_keeps_the_state(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    item = heals.enqueue(failure(1), 0)
    assert item is not None
    for n in range(1200):
        item = heals.save(replace(item, state=HealState.RUNNING if n % 2 else
                                  HealState.VALIDATING, model=f"m{n}"))
    assert len(path.read_bytes().splitlines()) <= 600
    heals.close()
    assert HealStore(path).get(1) == item


def test_a_decided_item_drops_its_candidate_when_compacted(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    item = heals.enqueue(failure(1), 0)
    assert item is not None
    heals.save(replace(item, state=HealState.REJECTED, best=Candidate("big\n" * 100, 0, "h")))
    waiting = heals.enqueue(failure(2), 0)
    assert waiting is not None
    heals.save(replace(waiting, state=HealState.ESCALATED, best=Candidate("fix\n", 0, "h")))
    for _ in range(600):  # enough traffic for a compaction
        heals.record_outcome("m", "test", True)
    heals.close()
    final = HealStore(path)
    assert final.get(1).best is None  # type: ignore[union-attr]
    assert final.get(2).best == Candidate("fix\n", 0, "h")  # type: ignore[union-attr]


def test_read_only_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    heal_some(heals, 2)
    heals.close()
    before = path.read_bytes()
    with path.open("ab") as fh:
        fh.write(b'{"torn')
    viewer = HealStore(path, read_only=True)
    assert len(viewer.items()) == 2
    with pytest.raises(JournalError, match="read-only"):
        viewer.update(1, state=HealState.HEALED)
    assert path.read_bytes() == before + b'{"torn'  # not even the repair


def test_concurrent_transitions_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    for n in range(40):
        heals.enqueue(failure(n), 0)

    def work() -> None:
        while (item := heals.claim_next()) is not None:
            heals.record_outcome("m", "test", True)
            heals.update(item.id, state=HealState.HEALED, model=threading.current_thread().name)

    threads = [threading.Thread(target=work, name=f"w{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    heals.close()
    again = HealStore(path)
    assert [i.state for i in again.items()] == [HealState.HEALED] * 40
    assert again.learned_order("test", min_tries=40) == ["m"]


def test_the_heal_tables_of_an_old_state_json_are_imported(tmp_path: Path) -> None:
    failure_json = failure(1, "calc.py").to_json()
    old = {"heals": {"1": {"id": "h3", "failure_id": "f1", "failure": failure_json,
                           "path": "calc.py", "kind": "test", "state": "escalated",
                           "attempts": 2, "model": "o3", "reason": "attempts exhausted",
                           "base_hash": "b0", "best": "x = 2\n", "best_failing": 0,
                           "best_base": "b0", "backup": "", "hint": "", "candidate": None,
                           "dry_run": False, "priority": [1, 0, -4]}},
           "attempts": {"1": {"heal_id": "h3", "number": 1, "model": "o3", "outcome": "failed",
                              "reason": "red", "diff": "-a\n+b", "signature": "s"}},
           "model_stats": {"1": {"model": "o3", "kind": "test", "tries": 4, "successes": 3}},
           "journal": {"1": {"heal_id": "h2", "seq": 1, "path": "x.py", "backup": "bk",
                             "state": "applied", "before_hash": "1", "after_hash": "2"}},
           "scan_cache": {"1": {"path": "calc.py"}}}
    (tmp_path / "state.json").write_text(json.dumps(old))
    heals = HealStore(tmp_path / "heals.jsonl")
    [item] = heals.items()
    assert (item.id, item.state, item.attempts, item.path) == (3, HealState.ESCALATED, 2,
                                                              "calc.py")
    assert item.best == Candidate("x = 2\n", 0, "b0") and item.log[0].reason == "red"
    assert heals.learned_order("test", min_tries=1) == ["o3"]
    assert [f.heal_id for f in heals.applied_fixes()] == [2]
    assert (tmp_path / "heals.jsonl").is_file()  # imported once, into the journal


WRITER = """
import sys
from dataclasses import replace
from pathlib import Path
from dreamscape_tui.core.checks import Failure
from dreamscape_tui.core.healcodec import item_to_dict
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import HealState

heals = HealStore(Path(sys.argv[1]))
n = 0
while True:
    n += 1
    item = heals.enqueue(Failure(f"f{n}", f"m{n}.py", "test", "pytest", "x"), 0)
    heals.save(replace(item, state=HealState.RUNNING, model="m" * (n % 50)))
    print(item.id, flush=True)  # acknowledged: on disk
"""


def test_sigkill_mid_write_loses_no_acknowledged_change(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged: list[int] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        acknowledged.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    heals = HealStore(path)
    stored = {i.id: i for i in heals.items()}
    assert acknowledged and all(stored[n].state is HealState.RUNNING for n in acknowledged)
