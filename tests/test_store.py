"""Store: many writer threads lose nothing; crashes and corruption never lose the store."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from dreamscape_tui.core.store import Store


def test_eight_concurrent_writers_lose_no_record(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.json", flush_interval_s=0.01)
    per_thread = 250
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            with store.tables() as db:
                db.table("t").insert({"writer": n, "i": i})
            if i % 50 == 0:
                store.flush()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    data = json.loads((tmp_path / "state.json").read_text())
    records = {(doc["writer"], doc["i"]) for doc in data["t"].values()}
    assert records == {(n, i) for n in range(8) for i in range(per_thread)}
    reopened = Store(tmp_path / "state.json")
    with reopened.tables() as db:
        assert len(db.table("t")) == 8 * per_thread
    reopened.close()


def test_truncated_store_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with Store(path) as store, store.tables() as db:
        db.table("t").insert_multiple({"i": i} for i in range(100))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])  # a crash mid-write of a naive store
    store = Store(path)
    assert store.recovered_to == tmp_path / "state.json.corrupt-1"
    assert store.recovered_to.read_bytes() == raw[: len(raw) // 2]  # kept for the user
    with store.tables() as db:
        assert len(db.table("t")) == 0
        db.table("t").insert({"i": "new"})
    store.close()
    assert json.loads(path.read_text())["t"] == {"1": {"i": "new"}}


def test_non_object_store_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("[1, 2, 3]")
    store = Store(path)
    assert store.recovered_to is not None
    store.close()


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with Store(path) as store:
        for i in range(5):
            with store.tables() as db:
                db.table("t").insert({"i": i})
            store.flush()
            json.loads(path.read_text())  # always a whole document
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_nothing_is_written_when_nothing_changed(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with Store(path) as store, store.tables() as db:
        db.table("t").insert({"i": 1})
    mtime = path.stat().st_mtime_ns
    with Store(path) as store, store.tables() as db:
        assert db.table("t").all() == [{"i": 1}]
    assert path.stat().st_mtime_ns == mtime


def test_periodic_flush_persists_without_close(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = Store(path, flush_interval_s=0.05)
    with store.tables() as db:
        db.table("t").insert({"i": 1})
    done = threading.Event()
    for _ in range(100):
        if path.exists() and json.loads(path.read_text()).get("t"):
            done.set()
            break
        threading.Event().wait(0.05)
    store.close()
    assert done.is_set()


def test_changes_stay_in_memory_until_flushed(tmp_path: Path) -> None:
    path = tmp_path / "scan.json"
    before = {t for t in threading.enumerate() if t.name == "store-flush"}
    store = Store(path)  # no flush interval: no flusher thread
    assert {t for t in threading.enumerate() if t.name == "store-flush"} <= before
    with store.tables() as db:
        db.table("t").insert_multiple({"i": i} for i in range(50))
        db.table("t").truncate()
        db.table("t").insert({"i": "last"})
    assert not path.exists() and store.flushes == 0
    store.flush()
    store.flush()  # nothing changed since: no second write
    assert store.flushes == 1
    assert json.loads(path.read_text()) == {"t": {"1": {"i": "last"}}}
    store.close()
    assert store.flushes == 1


def test_for_project_opens_the_scan_cache_file(tmp_path: Path) -> None:
    with Store.for_project(tmp_path) as store, store.tables() as db:
        db.table("t").insert({"i": 1})
    assert sorted(p.name for p in (tmp_path / ".dreamscape").iterdir()) == ["scan.json"]


def test_read_only_store_reads_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / ".dreamscape" / "scan.json"
    with Store(tmp_path / "absent" / "scan.json", read_only=True) as store, \
            store.tables() as db:
        db.table("t").insert({"i": 1})  # kept in memory only
    assert not (tmp_path / "absent").exists()  # not even the directory
    with Store(path) as store, store.tables() as db:
        db.table("t").insert({"i": 1})
    before = path.stat().st_mtime_ns
    reader = Store(path, read_only=True, flush_interval_s=0.01)
    with reader.tables() as db:
        assert db.table("t").all() == [{"i": 1}]
        db.table("t").insert({"i": 2})
    reader.flush()
    reader.close()
    assert reader.flushes == 0 and path.stat().st_mtime_ns == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["scan.json"]


def test_read_only_store_leaves_a_corrupt_file_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "scan.json"
    path.write_text('{"t": {"1": ')
    store = Store(path, read_only=True)
    assert store.corrupt and store.recovered_to is None
    with store.tables() as db:
        assert db.table("t").all() == []
    store.close()
    assert path.read_text() == '{"t": {"1": ' and len(list(tmp_path.iterdir())) == 1
