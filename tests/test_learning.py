"""The learning loop's memory and its uses, without a model: statistics folded from the
heal journal (old journals too), verdicts from item changes, the best format, routing by
rate and latency, accepted-fix examples and the prompt they condition."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from dreamscape_tui.core import learning
from dreamscape_tui.core.answer import Answer
from dreamscape_tui.core.checks import Failure, Kind
from dreamscape_tui.core.config import Config, ModelConfig, RoutingConfig
from dreamscape_tui.core.edits import answer_format, parse_edit
from dreamscape_tui.core.healstore import HealStore
from dreamscape_tui.core.healtypes import Attempt, Candidate, HealItem, HealState
from dreamscape_tui.core.learning import Cell, Example
from dreamscape_tui.core.prompt import EXAMPLES_HEADING, build_prompt
from dreamscape_tui.core.registry import ModelRegistry, RouteRequest

SR_ANSWER = "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"


def failure(n: int, kind: Kind = "test") -> Failure:
    return Failure(f"f{n}", f"m{n}.py", kind, "pytest", f"assert {n} == {n + 1}\nmore")


def attempt(n: int, model: str, fmt: str, ok: bool, diff: str = "", seconds: float = 1.0
            ) -> Attempt:
    return Attempt(n, model, "validated" if ok else "failed", "r", diff, format=fmt,
                   seconds=seconds, tokens_in=10, tokens_out=5, cost=0.01)


def healed(heals: HealStore, n: int, model: str, fmt: str, kind: Kind = "test",
           diff: str = "") -> HealItem:
    """Queue a failure and take it through one validated attempt to healed."""
    item = heals.enqueue(failure(n, kind), 0)
    assert item is not None
    tried = attempt(1, model, fmt, True, diff or f"-x = {n}\n+x = {n + 1}\n")
    heals.record_outcome(model, kind, True, attempt=tried)
    item = heals.save(replace(item, state=HealState.RUNNING, attempts=1, log=(tried,)))
    heals.record_apply(item.id, path=item.path, backup="b", state="applied",
                       before_hash="1", after_hash="2")
    return heals.save(replace(item, state=HealState.HEALED, fixed_by=1))


def test_verdicts_come_from_item_changes_in_the_same_journal_line(tmp_path: Path) -> None:
    path = tmp_path / "heals.jsonl"
    heals = HealStore(path)
    first = healed(heals, 1, "fast", "search-replace")
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["op"] == "set" and last["learn"] == {
        "verdict": "applied", "model": "fast", "kind": "test", "format": "search-replace"}
    healed(heals, 2, "fast", "search-replace")
    heals.update(first.id, state=HealState.UNDONE)  # an undo takes the credit back
    # an escalation a person retries with a hint, then rejects, then one accepted
    waiting = heals.enqueue(failure(3), 0)
    assert waiting is not None
    offered = attempt(1, "strong", "whole-file", True)
    heals.record_outcome("strong", "test", True, attempt=offered)
    waiting = heals.save(replace(waiting, state=HealState.ESCALATED, attempts=1, log=(offered,),
                                 best=Candidate("x\n", 0, "h", attempt=1)))
    waiting = heals.save(replace(waiting, state=HealState.QUEUED, hint="keep it short"))
    retried = json.loads(path.read_text().splitlines()[-1])["learn"]
    assert retried["verdict"] == "retried" and retried["hint"] == "keep it short"
    waiting = heals.save(replace(waiting, state=HealState.ESCALATED))
    heals.save(replace(waiting, state=HealState.ACCEPTED))
    stats = heals.stats()
    assert stats[("fast", "test", "search-replace")] == Cell(
        tries=2, validated=2, applied=2, kept=1, undone=1, seconds=2.0, tokens_in=20,
        tokens_out=10, cost=0.02)
    strong = stats[("strong", "test", "whole-file")]
    assert (strong.tries, strong.applied, strong.kept, strong.accepted, strong.retried) == (
        1, 1, 1, 1, 1)
    heals.close()
    assert HealStore(path).stats() == stats  # folded back the same
    compacted = HealStore(path)
    compacted._compact()  # a snapshot keeps the table: one stats record per cell
    compacted.close()
    ops = [json.loads(line)["op"] for line in path.read_text().splitlines()]
    assert ops.count("stats") == 2 and "outcome" not in ops
    assert HealStore(path).stats() == stats


def test_a_dry_run_and_a_rejection_keep_nothing(tmp_path: Path) -> None:
    heals = HealStore(tmp_path / "heals.jsonl")
    item = heals.enqueue(failure(1), 0)
    assert item is not None
    tried = attempt(1, "fast", "diff", True)
    heals.record_outcome("fast", "test", True, attempt=tried)
    heals.save(replace(item, state=HealState.HEALED, dry_run=True, log=(tried,), fixed_by=1))
    other = heals.enqueue(failure(2), 0)
    assert other is not None
    heals.save(replace(other, state=HealState.ESCALATED, log=(tried,)))
    heals.save(replace(heals.get(other.id) or other, state=HealState.REJECTED))
    cell = heals.stats()[("fast", "test", "diff")]
    assert (cell.tries, cell.validated, cell.applied, cell.kept, cell.rejected) == (1, 1, 0, 0, 1)


def test_old_journals_still_fold(tmp_path: Path) -> None:
    """Records from before formats, latency and verdicts existed: an old success counts
    as kept, and old attempts load with the new fields' defaults."""
    path = tmp_path / "heals.jsonl"
    item = {"id": 1, "failure": failure(1).to_json(), "state": "healed", "attempts": 1,
            "best": {"content": "x\n", "failing": 0, "base_hash": "h"},
            "log": [{"number": 1, "model": "o3", "outcome": "validated", "reason": "ok",
                     "diff": "-a\n+b\n", "signature": ""}]}
    records = [{"op": "item", "item": item},
               {"op": "outcome", "model": "o3", "kind": "test", "success": True},
               {"op": "outcome", "model": "o3", "kind": "test", "success": False},
               {"op": "stats", "model": "mini", "kind": "test", "tries": 4, "successes": 1}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    heals = HealStore(path, read_only=True)
    [loaded] = heals.items()
    assert loaded.log[0].format == "" and loaded.log[0].seconds == 0.0
    assert loaded.best == Candidate("x\n", 0, "h") and loaded.fixed_by == 0
    stats = heals.stats()
    assert (stats[("o3", "test", "")].tries, stats[("o3", "test", "")].kept) == (2, 1)
    assert (stats[("mini", "test", "")].tries, stats[("mini", "test", "")].kept) == (4, 1)
    assert heals.learned_order("test", 1) == ["o3", "mini"]  # 2/4 beats 2/6
    assert heals.accepted_fixes("test") == [Example(1, "m1.py", "assert 1 == 2", "-a\n+b\n")]


def test_best_format_needs_evidence_and_a_kept_fix() -> None:
    table: learning.Table = {}
    learning.add_outcome(table, ("m", "test", "whole-file"), False)
    learning.add_outcome(table, ("m", "test", "search-replace"), True)
    assert learning.best_format(table, "m", "test", 3) == ""  # 2 tries: not enough
    learning.add_verdict(table, ("m", "test", "search-replace"), "applied")
    learning.add_outcome(table, ("m", "test", "whole-file"), False)
    assert learning.best_format(table, "m", "test", 3) == "search-replace"
    learning.add_outcome(table, ("m", "test", ""), False)  # no edit: no format's evidence
    assert learning.best_format(table, "m", "syntax", 3) == "search-replace"  # all kinds
    assert learning.best_format(table, "m", "test", 4) == ""
    assert learning.best_format(table, "other", "test", 1) == ""
    never_kept: learning.Table = {}
    for _ in range(5):
        learning.add_outcome(never_kept, ("m", "test", "diff"), True)
    assert learning.best_format(never_kept, "m", "test", 3) == ""  # validated, never kept


def scored(table: learning.Table, model: str, tries: int, kept: int, seconds: float) -> None:
    for n in range(tries):
        learning.add_outcome(table, (model, "test", "diff"), n < kept, seconds=seconds)
        if n < kept:
            learning.add_verdict(table, (model, "test", "diff"), "applied")


def test_learned_order_is_rate_then_latency_then_the_ladder() -> None:
    table: learning.Table = {}
    scored(table, "slow", 5, 4, 30.0)  # rate 5/7 = 0.714
    scored(table, "quick", 5, 4, 3.0)  # the same rate, ten times faster
    scored(table, "close", 6, 5, 10.0)  # 6/8 = 0.75: similar to 0.714 (within 0.05)
    scored(table, "bad", 5, 0, 1.0)  # the fastest, but it is never kept
    assert learning.learned_order(table, "test", 3) == ["quick", "close", "slow", "bad"]
    assert learning.learned_order(table, "syntax", 3) == []  # no data on that kind
    assert learning.learned_order(table, "test", 100) == []  # not enough evidence yet
    tied: learning.Table = {}
    scored(tied, "b", 3, 3, 0.0)  # no latency recorded (old journals): after known ones
    scored(tied, "a", 3, 3, 0.0)
    scored(tied, "c", 3, 3, 5.0)
    assert learning.learned_order(tied, "test", 3, ladder=["b", "a"]) == ["c", "b", "a"]


def test_routing_takes_the_learned_order_and_skips_spent_models() -> None:
    models = tuple(ModelConfig(name=n, kind="openai-api", base_url="http://x")
                   for n in ("fast", "strong", "big"))
    registry = ModelRegistry(Config(models=models,
                                    routing=RoutingConfig(ladder=("fast", "strong", "big"))))
    request = RouteRequest(kind="test")
    table: learning.Table = {}
    scored(table, "big", 4, 4, 9.0)
    scored(table, "strong", 4, 4, 2.0)
    scored(table, "fast", 4, 0, 1.0)
    order = learning.learned_order(table, "test", 3, [m.name for m in registry.ladder])
    assert order == ["strong", "big", "fast"]
    assert [registry.route(request, n, order).name for n in (1, 2, 3)] == [
        "strong", "big", "fast"]
    assert registry.route(request, 1, []).name == "fast"  # no data: the ladder
    assert registry.choose(request, 1, order, skip={"strong"}).name == "big"  # type: ignore[union-attr]
    assert registry.choose(request, 1, None, skip={"fast", "strong", "big"}) is None


def test_a_retry_never_goes_back_to_a_model_that_failed_it_this_round() -> None:
    """The learned order can change between two attempts of one item (other items'
    results come in); the retry still escalates to a model not tried yet."""
    models = tuple(ModelConfig(name=n, kind="openai-api", base_url="http://x")
                   for n in ("fast", "strong", "big"))
    registry = ModelRegistry(Config(models=models,
                                    routing=RoutingConfig(ladder=("fast", "strong", "big"))))
    request = RouteRequest(kind="test")
    # attempt 1 went to "fast"; now "fast" leads the learned order (it healed others)
    assert registry.choose(request, 2, ["fast", "strong"], tried={"fast"}).name == "strong"  # type: ignore[union-attr]
    assert registry.choose(request, 3, ["fast", "big", "strong"],  # type: ignore[union-attr]
                           tried={"fast", "big"}).name == "strong"
    # every candidate tried: the rung for the attempt, as before
    assert registry.choose(request, 4, None, tried={"fast", "strong", "big"}).name == "big"  # type: ignore[union-attr]
    item = HealItem(1, Failure("f", "a.py", "test", "pytest", "x"), attempts=2,
                    log=(Attempt(1, "o3", "failed", "r"), Attempt(1, "fast", "failed", "r"),
                         Attempt(2, "big", "failed", "r")))
    assert item.round_models() == {"fast", "big"}  # a retry with a hint began a round
    assert replace(item, attempts=0).round_models() == set()


def test_examples_are_kept_fixes_of_the_kind_most_recent_first(tmp_path: Path) -> None:
    heals = HealStore(tmp_path / "heals.jsonl")
    one = healed(heals, 1, "fast", "diff")
    healed(heals, 2, "fast", "diff")
    healed(heals, 3, "fast", "diff", kind="syntax")
    four = healed(heals, 4, "fast", "diff")
    heals.update(four.id, state=HealState.UNDONE)  # undone: never an example
    assert [e.path for e in heals.accepted_fixes("test")] == ["m2.py", "m1.py"]
    assert [e.path for e in heals.accepted_fixes("syntax")] == ["m3.py"]
    assert heals.accepted_fixes("test")[1] == Example(one.id, "m1.py", "assert 1 == 2",
                                                      "-x = 1\n+x = 2\n")


def test_the_prompt_asks_for_the_learned_format_and_shows_examples(tmp_path: Path) -> None:
    fail = failure(1)
    plain = build_prompt(tmp_path, fail, "x = 1\n", None)
    assert "Reply with the complete corrected `m1.py` in one ```python block, or with " \
           "SEARCH/REPLACE blocks:" in plain and EXAMPLES_HEADING not in plain
    sr = build_prompt(tmp_path, fail, "x = 1\n", None, answer_format="search-replace")
    assert "Answer with SEARCH/REPLACE blocks" in sr and "```python block" not in sr
    assert "<<<<<<< SEARCH" in sr
    assert "Answer with a unified diff of `m1.py`" in build_prompt(
        tmp_path, fail, "x = 1\n", None, answer_format="diff")
    assert "Answer with the complete corrected `m1.py`" in build_prompt(
        tmp_path, fail, "x = 1\n", None, answer_format="whole-file")
    big = Example(7, "big.py", "huge", "-a\n" + "+b\n" * 400)
    small = [Example(n, f"s{n}.py", f"assert {n}", f"-x = {n}\n+x = {n + 1}\n", hint="h")
             for n in (1, 2, 3)]
    shown = build_prompt(tmp_path, fail, "x = 1\n", None, examples=[big, *small],
                         example_limit=2, example_chars=400)
    section = shown[shown.index(EXAMPLES_HEADING):shown.index("## The current")]
    assert "big.py" not in section  # over the size budget: left out, the next tried
    assert "s1.py" in section and "s2.py" in section and "s3.py" not in section  # limit 2
    assert section.index("s1.py") < section.index("s2.py")  # in the order given
    assert "-x = 1\n+x = 2" in section and "developer's hint: h" in section
    none_fit = build_prompt(tmp_path, fail, "x = 1\n", None, examples=[big], example_chars=50)
    assert EXAMPLES_HEADING not in none_fit


@pytest.mark.parametrize(("text", "expected"), [
    (SR_ANSWER, "search-replace"),
    ("--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n", "diff"),
    ("Here:\n\n```python\nx = 2\n```\n", "whole-file"),
    ("I do not know.", ""),
])
def test_the_format_of_an_answer_is_known_even_when_it_does_not_fit(text: str,
                                                                   expected: str) -> None:
    answer = Answer(text)
    assert answer_format(answer) == expected
    if expected:
        assert parse_edit(answer, "a.py", "x = 1\n").format == expected
        refused = Answer(text.replace("x = 1", "y = 7"))  # the edit no longer fits
        assert answer_format(refused) == expected


def test_an_accepted_fix_is_credited_to_the_attempt_that_made_it(tmp_path: Path) -> None:
    """The best candidate came from attempt 1; a later attempt validated too: accepting
    credits attempt 1's model and format, and its diff is the example."""
    heals = HealStore(tmp_path / "heals.jsonl")
    item = heals.enqueue(failure(1), 0)
    assert item is not None
    first = attempt(1, "fast", "diff", True, "-x = 1\n+x = 2\n")
    second = attempt(2, "strong", "whole-file", True, "-x = 1\n+x = 3\n")
    item = heals.save(replace(item, state=HealState.ESCALATED, log=(first, second),
                              best=Candidate("x = 2\n", 0, "h", attempt=1)))
    heals.save(replace(item, state=HealState.ACCEPTED, fixed_by=1, best=None))
    stats = heals.stats()
    assert stats[("fast", "test", "diff")].accepted == 1
    assert ("strong", "test", "whole-file") not in stats
    assert [e.diff for e in heals.accepted_fixes("test")] == ["-x = 1\n+x = 2\n"]
