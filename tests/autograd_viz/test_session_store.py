"""The session store: round trips, live reading, bad files, size, summary and CSV export."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from autograd_viz.session import (
    CSV_FILES, EVENT_NONFINITE, CorruptSessionError, EmptySessionError, Event, GraphStructure,
    Histogram, InvalidRecordError, IterationNotFoundError, IterationRecord, NodeInfo,
    NotASessionError, ParamStats, RunInfo, SessionError, SessionExistsError,
    SessionNotFoundError, SessionReader, SessionVersionError, SessionWriteError, SessionWriter,
    Stats, TruncatedSessionError, export_csv, summarize)
from autograd_viz.session.arrays import (ArrayDecodeError, decode_array, encode_array,
                                         narrow_counts)
from autograd_viz.session.schema import FORMAT_VERSION

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _load_sample_run():
    spec = importlib.util.spec_from_file_location("session_sample_run",
                                                  HERE / "session_sample_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sample = _load_sample_run()


def _child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _write_lenet(path: Path, n: int, *, close: bool = True, snapshots: bool = True,
                 iterations=None) -> SessionWriter:
    writer = SessionWriter(path, sample.make_run())
    sid = writer.add_structure(sample.make_structure())
    for i in (range(n) if iterations is None else iterations):
        writer.write_iteration(sample.make_record(i, sid, snapshots=snapshots))
    if close:
        writer.close()
    return writer


@pytest.fixture
def lenet_session(tmp_path) -> Path:
    path = tmp_path / "lenet.avz"
    _write_lenet(path, 40)
    return path


# --------------------------------------------------------------------------------------------
# round trips

def _every_kind_records(sid_str: str, sid_int: str) -> list[IterationRecord]:
    nan, inf = math.nan, math.inf
    first = IterationRecord(
        iteration=3, loss=1.25, metrics={"accuracy": 0.5, "lr": 1e-3, "odd": -inf},
        structure_id=sid_str,
        node_stats={"AddBackward0#1": Stats(norm=1.5, mean=0.1, std=0.2, min=-1.0, max=2.0),
                    "MulBackward0#2": Stats(norm=nan, mean=nan, std=nan, min=-inf, max=inf,
                                            nan_count=7, inf_count=2)},
        param_stats={"w": ParamStats(grad=Stats(norm=0.3, mean=0.0, std=0.1, min=-0.2,
                                                max=0.25, nan_count=0, inf_count=0),
                                     weight_norm=4.0, update_norm=1e-4, update_ratio=2.5e-5),
                     "b": ParamStats(grad=None, weight_norm=0.0),
                     "c": ParamStats(grad=Stats(norm=nan, mean=nan, std=nan, min=nan, max=nan,
                                                nan_count=3), weight_norm=nan, update_norm=nan,
                                     update_ratio=None)},
        value_histograms={"w": Histogram(edges=np.linspace(-1, 1, 5, dtype=np.float32),
                                         counts=[1, 0, 300, 4])},
        grad_histograms={"w": Histogram(edges=np.linspace(-1e-3, 1e-3, 4),  # float64 edges
                                        counts=[2 ** 40, 70000, 0]),
                         "b": Histogram(edges=np.array([0.0, 1.0]), counts=[5])},
        events=[Event(iteration=3, kind=EVENT_NONFINITE, node_key="MulBackward0#2",
                      op="MulBackward0", source="train.py:17", message="NaN in grad"),
                Event(iteration=3, kind="note", message="no node")],
        snapshots={"f32": np.arange(12, dtype=np.float32).reshape(3, 4),
                   "f16": np.array([0.5, -2.0], dtype=np.float16),
                   "f64_nan": np.array([np.nan, 1.0, np.inf]),
                   "i8": np.array([-128, 127], dtype=np.int8),
                   "u16": np.array([[65535]], dtype=np.uint16),
                   "i64": np.array([2 ** 62], dtype=np.int64),
                   "bool": np.array([True, False, True]),
                   "c64": np.array([1 + 2j], dtype=np.complex64),
                   "scalar": np.array(3.5, dtype=np.float32),
                   "empty": np.zeros((0, 3), dtype=np.float32),
                   "strided": np.arange(20, dtype=np.int32).reshape(4, 5)[:, ::2]},
        wall_time=1.7e9 + 0.123456789, samples_per_s=1234.5)
    second = IterationRecord(iteration=10, loss=nan, metrics={"accuracy": nan},
                             structure_id=sid_int,
                             node_stats={0: Stats(norm=1.0, mean=1.0, std=0.0, min=1.0, max=1.0),
                                         7: Stats(norm=2.0, mean=0.5, std=0.5, min=0.0, max=1.0)},
                             events=[Event(iteration=10, kind=EVENT_NONFINITE, node_key=7,
                                           op="DivBackward0", message="inf")],
                             wall_time=1.7e9 + 5)
    third = IterationRecord(iteration=11, loss=None, wall_time=1.7e9 + 6)  # nothing but time
    return [first, second, third]


def _structures() -> tuple[GraphStructure, GraphStructure]:
    by_name = GraphStructure(
        nodes=[NodeInfo(key="AddBackward0#1", op="AddBackward0", module_path="block.0",
                        output_shapes=[(2, 3)], dtype="torch.float32", device="cpu",
                        source="train.py:12"),
               NodeInfo(key="MulBackward0#2", op="MulBackward0", output_shapes=[(2, 3), (3,)]),
               NodeInfo(key="AccumulateGrad:w", op="AccumulateGrad", param_name="w",
                        output_shapes=[(2, 3)], attrs={"requires_grad": True, "lr": 0.1})],
        edges=[("AddBackward0#1", "MulBackward0#2"), ("MulBackward0#2", "AccumulateGrad:w")])
    by_int = GraphStructure(nodes=[NodeInfo(key=0, op="SumBackward0"),
                                   NodeInfo(key=7, op="DivBackward0", device="cuda:0")],
                            edges=[(0, 7)])
    return by_name, by_int


def test_round_trip_of_every_record_kind(tmp_path):
    path = tmp_path / "every.avz"
    run = RunInfo(script="train.py", args=["--lr", "0.1"], start_time=1.7e9,
                  engine_version="0.1.0", device="cuda:0", parameters={"w": (2, 3)},
                  extra={"seed": 42, "note": "ünïcode"})
    by_name, by_int = _structures()
    with SessionWriter(path, run) as writer:
        sid_str = writer.add_structure(by_name)
        sid_int = writer.add_structure(by_int, structure_id="custom-id")
        assert writer.add_structure(by_name) == sid_str  # adding again is a no-op
        records = _every_kind_records(sid_str, sid_int)
        for record in records:
            writer.write_iteration(record)

    with SessionReader(path) as reader:
        assert reader.format_version == FORMAT_VERSION
        run.format_version = FORMAT_VERSION
        assert reader.run == run
        assert reader.end.status == "finished"
        assert reader.iterations() == [3, 10, 11]
        assert reader.structures() == {sid_str: by_name, "custom-id": by_int}
        assert reader.structure(sid_int).nodes[1].device == "cuda:0"
        for written in records:
            read = reader.read_iteration(written.iteration)
            assert read == written
            # types as the models expect them: plain Python numbers, int64 counts
            assert all(type(v) is float for v in read.metrics.values())
        first = reader.read_iteration(3)
        assert first.param_stats["b"].grad is None and first.param_stats["b"].update_norm is None
        assert math.isnan(first.param_stats["c"].update_norm)  # NaN stays NaN, not None
        assert first.param_stats["c"].update_ratio is None
        assert first.grad_histograms["w"].counts.dtype == np.int64
        assert first.grad_histograms["w"].counts[0] == 2 ** 40
        assert first.grad_histograms["w"].edges.dtype == np.float64
        assert first.value_histograms["w"].edges.dtype == np.float32
        assert first.snapshots["bool"].dtype == np.bool_
        first.snapshots["f32"][0, 0] = 99.0  # arrays come back writable, owning their memory
        second = reader.read_iteration(10)
        assert math.isnan(second.loss) and list(second.node_stats) == [0, 7]
        assert second.events[0].node_key == 7
        assert reader.read_iteration(11).loss is None
        with pytest.raises(IterationNotFoundError, match="has no iteration 4"):
            reader.read_iteration(4)


def test_record_equality_is_by_content_and_can_fail():
    a = sample.make_record(36, "s")
    b = sample.make_record(36, "s")
    assert math.isnan(a.loss) and a == b  # NaN loss and NaN stats compare equal
    b.node_stats[next(iter(b.node_stats))].mean += 1e-12
    assert a != b
    c = sample.make_record(35, "s")
    d = sample.make_record(35, "s")
    d.snapshots["fc3.weight"] = d.snapshots["fc3.weight"].astype(np.float64)
    assert c != d  # same values, other dtype
    e = sample.make_record(0, "s")
    f = sample.make_record(0, "s")
    f.param_stats["fc3.bias"].update_norm = 0.0
    assert e != f  # None and 0.0 differ


def test_writer_works_from_another_thread(tmp_path):
    path = tmp_path / "threaded.avz"
    writer = SessionWriter(path, sample.make_run())  # created in this (the GUI) thread
    sid = writer.add_structure(sample.make_structure())
    errors = []

    def train():
        try:
            for i in range(5):
                writer.write_iteration(sample.make_record(i, sid))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join(10)
    writer.close()
    assert not errors
    with SessionReader(path) as reader:
        assert reader.iterations() == [0, 1, 2, 3, 4]


def test_reader_histories(lenet_session):
    with SessionReader(lenet_session) as reader:
        records = list(reader.records())
        assert [r.iteration for r in records] == list(range(40))
        assert [r.iteration for r in reader.records(start=5, stop=8)] == [5, 6, 7]
        its, losses = reader.losses()
        assert its.tolist() == list(range(40))
        np.testing.assert_array_equal(losses, [r.loss for r in records])
        assert math.isnan(losses[36])
        assert [s for _, s in reader.node_stats_history()] == [r.node_stats for r in records]
        assert [s for _, s in reader.param_stats_history()] == [r.param_stats for r in records]
        history = reader.histogram_history("conv2.weight", "values")
        assert [it for it, _ in history] == [0, 10, 20, 30]
        assert history[1][1] == records[10].value_histograms["conv2.weight"]
        assert reader.histogram_history("conv2.weight", "grads")[0][1] == \
            records[0].grad_histograms["conv2.weight"]
        events = reader.events()
        assert [(e.iteration, e.kind) for e in events] == [(36, EVENT_NONFINITE)]
        assert reader.events("other") == []
        assert reader.snapshot_names() == ["fc3.weight", "mask"]
        assert reader.snapshot_iterations("mask") == [0, 5, 10, 15, 20, 25, 30, 35]
        np.testing.assert_array_equal(reader.snapshot("fc3.weight", 15),
                                      records[15].snapshots["fc3.weight"])
        with pytest.raises(IterationNotFoundError, match="no snapshot 'mask' at iteration 3"):
            reader.snapshot("mask", 3)
        sid = records[0].structure_id
        assert reader.iteration_structures() == {i: sid for i in range(40)}
        assert reader.latest_structure_id() == sid
        assert reader.iteration_count() == 40


# --------------------------------------------------------------------------------------------
# the writer refuses what it cannot store, and leaves no partial iteration

def test_writer_rejects_bad_records(tmp_path):
    path = tmp_path / "bad.avz"
    writer = SessionWriter(path)
    sid = writer.add_structure(sample.make_structure())
    writer.write_iteration(IterationRecord(iteration=5, loss=1.0))
    cases = [
        (IterationRecord(iteration=5), "iteration 5 is not after the last recorded iteration 5"),
        (IterationRecord(iteration=4), "iterations must increase"),
        (IterationRecord(iteration=6, structure_id="nope"), "structure 'nope', which was never"),
        (IterationRecord(iteration=6, loss="high"), "loss must be a number"),
        (IterationRecord(iteration=6, metrics={"acc": None}), "metric 'acc' must be a number"),
        (IterationRecord(iteration=6, node_stats={1.5: Stats(norm=1, mean=0, std=0, min=0,
                                                             max=0)}),
         "node key must be a str or an int"),
        (IterationRecord(iteration=6, node_stats={"a": 1.0}), "must be Stats"),
        (IterationRecord(iteration=6, node_stats={"a": Stats(norm=1, mean=0, std=0, min=0,
                                                             max=0, nan_count=-1)}),
         "nan_count must be a non-negative integer"),
        (IterationRecord(iteration=6, events=[Event(iteration=2, kind="x", message="m")]),
         "says iteration 2"),
        (IterationRecord(iteration=6, snapshots={"o": np.array([object()])}),
         "cannot store an array of dtype object"),
        (IterationRecord(iteration=6, snapshots={"s": np.array(["text"])}),
         "cannot store an array of dtype <U4"),
    ]
    for record, message in cases:
        with pytest.raises(InvalidRecordError, match=message) as info:
            writer.write_iteration(record)
        assert str(path) in str(info.value)
    with pytest.raises(InvalidRecordError, match="takes an IterationRecord"):
        writer.write_iteration({"iteration": 6})
    other = GraphStructure(nodes=[NodeInfo(key="x", op="AddBackward0")])
    with pytest.raises(InvalidRecordError, match="already used for a different graph"):
        writer.add_structure(other, structure_id=sid)
    writer.write_iteration(IterationRecord(iteration=6, structure_id=sid))  # still usable
    writer.close()
    with pytest.raises(SessionWriteError, match="writer is closed"):
        writer.write_iteration(IterationRecord(iteration=7))
    writer.close()  # closing twice is fine
    with SessionReader(path) as reader:
        assert reader.iterations() == [5, 6]


def test_failed_write_rolls_back_the_whole_iteration(tmp_path, monkeypatch):
    path = tmp_path / "rollback.avz"
    writer = SessionWriter(path)
    sid = writer.add_structure(sample.make_structure())
    writer.write_iteration(sample.make_record(0, sid))
    real_insert = SessionWriter._insert

    def failing_insert(self, conn, it, rows, new_keysets):
        real_insert(self, conn, it, rows, new_keysets)  # every row of the iteration, then:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SessionWriter, "_insert", failing_insert)
    with pytest.raises(SessionWriteError, match="could not write iteration 1: disk I/O error"):
        writer.write_iteration(sample.make_record(1, sid))
    monkeypatch.setattr(SessionWriter, "_insert", real_insert)
    with SessionReader(path) as reader:
        assert reader.iterations() == [0]
        assert reader.snapshot_iterations("mask") == [0]
        assert [it for it, _ in reader.param_stats_history()] == [0]
    writer.write_iteration(sample.make_record(1, sid))  # the same iteration again, now whole
    writer.close()
    with SessionReader(path) as reader:
        assert reader.read_iteration(1) == sample.make_record(1, sid)


def test_writer_path_checks(tmp_path):
    path = tmp_path / "exists.avz"
    SessionWriter(path).close()
    with pytest.raises(SessionExistsError, match="already exists"):
        SessionWriter(path)
    # Stale sidecars of a crashed run must not leak into a new session.
    Path(f"{path}-wal").write_bytes(b"garbage from a crashed run")
    writer = SessionWriter(path, RunInfo(script="second.py"), overwrite=True)
    writer.write_iteration(IterationRecord(iteration=0, loss=1.0))
    writer.close()
    with SessionReader(path) as reader:
        assert reader.run.script == "second.py" and reader.iterations() == [0]
    with pytest.raises(SessionWriteError, match="directory .*missing.* does not exist"):
        SessionWriter(tmp_path / "missing" / "x.avz")
    with pytest.raises(SessionExistsError, match="is a directory"):
        SessionWriter(tmp_path)
    odd = tmp_path / "run #1 ?100% ü.avz"  # URI-special characters in the name
    with SessionWriter(odd) as writer:
        writer.write_iteration(IterationRecord(iteration=0, loss=0.5))
    with SessionReader(odd) as reader:
        assert reader.read_iteration(0).loss == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.avz", odd.name]


def test_closing_with_an_error_records_it(tmp_path):
    path = tmp_path / "failed.avz"
    with pytest.raises(RuntimeError):
        with SessionWriter(path) as writer:
            writer.write_iteration(IterationRecord(iteration=0, loss=1.0))
            raise RuntimeError("loss exploded")
    with SessionReader(path) as reader:
        assert reader.end.status == "error"
        assert reader.end.message == "RuntimeError: loss exploded"
        assert reader.summary()["status"] == "error"


# --------------------------------------------------------------------------------------------
# reading while the writer writes

def test_reader_follows_writer_in_same_process(tmp_path):
    path = tmp_path / "live.avz"
    writer = SessionWriter(path, sample.make_run())
    sid = writer.add_structure(sample.make_structure())
    reader = SessionReader(path)
    assert reader.latest_iteration() is None and reader.refresh() == []
    assert reader.end is None
    for i in range(12):
        record = sample.make_record(i, sid)
        writer.write_iteration(record)
        assert reader.latest_iteration() == i
        assert reader.refresh() == [i]  # exactly the new iteration, once
        assert reader.refresh() == []
        assert reader.read_iteration(i) == record
    assert reader.summary()["status"] == "incomplete"
    writer.write_iteration(sample.make_record(12, sid))
    writer.write_iteration(sample.make_record(13, sid))
    assert reader.refresh() == [12, 13]
    writer.close()  # with a reader attached: must not hang, file stays valid
    assert reader.end.status == "finished"
    reader.close()
    with SessionReader(path) as again:
        assert again.iterations() == list(range(14))


def test_reader_in_subprocess_follows_writer(tmp_path):
    path = tmp_path / "live.avz"
    n = 30
    writer = SessionWriter(path, sample.make_run())
    sid = writer.add_structure(sample.make_structure())
    child = subprocess.Popen([sys.executable, str(HERE / "session_sample_run.py"), "read",
                              str(path), str(n), "30"], cwd=REPO, env=_child_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"  # it has the file open
        for i in range(n):
            writer.write_iteration(sample.make_record(i, sid))
            time.sleep(0.01)  # the child polls every 5 ms: it sees iterations as they come
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        writer.close()
    assert child.returncode == 0, out
    words = out.split()
    assert words[:2] == ["ok", str(n)], out
    assert int(words[3]) > 1, out  # followed the writer, not one read at the end


# --------------------------------------------------------------------------------------------
# bad files: each a SessionError naming the file and the problem

def _expect(error_type, path, *phrases):
    with pytest.raises(error_type) as info:
        SessionReader(path)
    message = str(info.value)
    assert isinstance(info.value, SessionError) and isinstance(info.value, ValueError)
    assert message.startswith(f"{path}: "), message
    for phrase in phrases:
        assert phrase in message, message
    assert "Traceback" not in message
    return info.value


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.avz"
    _expect(SessionNotFoundError, path, "no such file")
    assert not path.exists()  # opening must not create it


def test_empty_file(tmp_path):
    path = tmp_path / "empty.avz"
    path.write_bytes(b"")
    _expect(EmptySessionError, path, "is empty (0 bytes)", "not a session file")


def test_directory(tmp_path):
    _expect(NotASessionError, tmp_path, "is a directory")


def test_random_bytes(tmp_path):
    path = tmp_path / "random.avz"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _expect(NotASessionError, path, "not an autograd-viz session", "not a SQLite database",
            "starts with bytes")


def test_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("loss went down, then NaN\n" * 20)
    _expect(NotASessionError, path, "not a SQLite database", "looks like a text file")


def test_unrelated_sqlite_database(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers(name) VALUES ('ada')")
    conn.commit()
    conn.close()
    _expect(NotASessionError, path, "is a SQLite database but not an autograd-viz session",
            "customers")


def test_empty_sqlite_database(tmp_path):
    path = tmp_path / "blank.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=1")  # forces the header to be written
    conn.close()
    _expect(NotASessionError, path, "not an autograd-viz session", "no tables")


def test_truncated_copy(tmp_path, lenet_session):
    data = lenet_session.read_bytes()
    assert len(data) > 20 * 4096
    for cut, phrase in [(len(data) // 2, "is truncated"), (len(data) - 4096, "is truncated"),
                        (len(data) - 100, f"{len(data) - 100} bytes, but its header says"),
                        (50, "less than the 100-byte SQLite header"),
                        (10, "is truncated")]:
        path = tmp_path / f"cut{cut}.avz"
        path.write_bytes(data[:cut])
        _expect(TruncatedSessionError, path, phrase)


def test_future_format_version(tmp_path, lenet_session):
    path = tmp_path / "future.avz"
    shutil.copy(lenet_session, path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={FORMAT_VERSION + 1}")
    conn.close()
    error = _expect(SessionVersionError, path, f"format version {FORMAT_VERSION + 1}",
                    f"up to {FORMAT_VERSION}", "upgrade autograd-viz")
    assert (error.file_version, error.supported_version) == (FORMAT_VERSION + 1, FORMAT_VERSION)


def test_damaged_rows_are_reported_not_crashed_on(tmp_path, lenet_session):
    path = tmp_path / "damaged.avz"
    shutil.copy(lenet_session, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE node_stats SET floats = substr(floats, 1, 10) WHERE iteration = 4")
    conn.execute("UPDATE snapshots SET dtype = '|O' WHERE iteration = 5")
    conn.execute("UPDATE iterations SET scalars = '{broken' WHERE iteration = 6")
    conn.execute("UPDATE snapshots SET shape = '[-1]' WHERE iteration = 10 AND name = 'mask'")
    conn.commit()
    conn.close()
    with SessionReader(path) as reader:
        assert reader.read_iteration(3) == sample.make_record(3, reader.latest_structure_id())
        for iteration, phrase in [(4, "needs 1280 bytes, found 10"),
                                  (5, "'|O' is not an allowed array dtype"),
                                  (6, "not valid JSON"),
                                  (10, "not a list of non-negative integers")]:
            with pytest.raises(CorruptSessionError, match="is damaged: iteration") as info:
                reader.read_iteration(iteration)
            assert str(info.value).startswith(f"{path}: ")
            assert phrase in str(info.value)


def test_session_missing_a_table(tmp_path, lenet_session):
    path = tmp_path / "no_events.avz"
    shutil.copy(lenet_session, path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE events")
    conn.close()
    _expect(CorruptSessionError, path, "missing table(s) events")


def test_damaged_page_surfaces_as_session_error(tmp_path, lenet_session):
    path = tmp_path / "scribbled.avz"
    data = bytearray(lenet_session.read_bytes())
    rng = np.random.default_rng(1)
    data[4096 * 3:] = rng.integers(0, 256, len(data) - 4096 * 3, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(SessionError) as info:
        with SessionReader(path) as reader:
            for _ in reader.records():
                pass
    assert str(info.value).startswith(f"{path}: ")


# --------------------------------------------------------------------------------------------
# size, summary, CSV

def test_size_per_iteration_for_lenet(tmp_path):
    """Average and histogram-iteration sizes of a LeNet run stay under 20 KB an iteration."""
    base = tmp_path / "base.avz"
    _write_lenet(base, 0)
    every = tmp_path / "every.avz"
    n = 200
    _write_lenet(every, n, snapshots=False)
    average = (every.stat().st_size - base.stat().st_size) / n
    hist_only = tmp_path / "hist.avz"
    _write_lenet(hist_only, 0, snapshots=False, iterations=range(0, 10 * 60, 10))
    with_histograms = (hist_only.stat().st_size - base.stat().st_size) / 60
    print(f"\nLeNet session: {average:.0f} B/iteration on average (histograms every 10), "
          f"{with_histograms:.0f} B for an iteration with histograms")
    assert average < 20_000
    assert with_histograms < 20_000
    with SessionReader(hist_only) as reader:
        assert len(reader.read_iteration(590).grad_histograms) == 10


def test_summary(lenet_session):
    summary = summarize(lenet_session)
    json.dumps(summary, allow_nan=False)  # strict JSON for `autograd-viz info --json`
    assert summary["path"] == str(lenet_session)
    assert summary["format_version"] == FORMAT_VERSION
    assert summary["status"] == "finished"
    assert (summary["iterations"], summary["first_iteration"], summary["last_iteration"]) == \
        (40, 0, 39)
    assert summary["graph"]["nodes"] == 32 and summary["graph"]["edges"] == 31
    assert summary["parameters"][0] == {"name": "conv1.weight", "shape": [6, 1, 5, 5]}
    assert len(summary["parameters"]) == 10
    assert summary["loss"]["first"] == 2.3
    assert summary["loss"]["final"] == sample.make_record(39, None).loss
    assert summary["nonfinite_events"]["count"] == 1
    first = summary["nonfinite_events"]["first"][0]
    assert first["iteration"] == 36 and first["op"] == "AddmmBackward0"
    assert first["source"] == "lenet.py:97"
    assert summary["run"]["script"] == "samples/lenet.py"


def test_summary_of_a_run_that_ended_in_nan(tmp_path):
    path = tmp_path / "nan.avz"
    with SessionWriter(path) as writer:
        writer.write_iteration(IterationRecord(iteration=0, loss=2.0))
        writer.write_iteration(IterationRecord(iteration=1, loss=math.nan))
        writer.write_iteration(IterationRecord(iteration=2, loss=None))
    summary = summarize(path)
    assert summary["loss"] == {"first": 2.0, "final": "nan"}
    assert summary["graph"] is None and summary["parameters"] == []
    json.dumps(summary, allow_nan=False)


def test_summarize_bad_file_names_it(tmp_path):
    path = tmp_path / "x.avz"
    path.write_text("hello")
    with pytest.raises(NotASessionError, match="x.avz: is not an autograd-viz session"):
        summarize(path)


def test_export_csv(tmp_path, lenet_session):
    out = tmp_path / "csv" / "nested"
    paths = export_csv(lenet_session, out)
    assert [p.name for p in paths] == list(CSV_FILES)
    with SessionReader(lenet_session) as reader:
        records = list(reader.records())
        structure = reader.structure(records[0].structure_id)

    with open(out / "losses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["iteration", "wall_time", "samples_per_s", "loss", "accuracy", "lr"]
    assert len(rows) == 40
    for row, record in zip(rows, records):
        assert int(row["iteration"]) == record.iteration
        loss = float(row["loss"])
        assert loss == record.loss or (math.isnan(loss) and math.isnan(record.loss))
        assert float(row["accuracy"]) == record.metrics["accuracy"]
        assert float(row["wall_time"]) == record.wall_time

    with open(out / "param_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 40 * 10
    first = rows[0]
    p = records[0].param_stats["conv1.weight"]
    assert first["name"] == "conv1.weight"
    assert float(first["grad_norm"]) == p.grad.norm
    assert float(first["weight_norm"]) == p.weight_norm
    assert first["update_norm"] == ""  # None at iteration 0
    no_grad = next(r for r in rows if r["iteration"] == "0" and r["name"] == "fc3.bias")
    assert no_grad["grad_norm"] == "" and no_grad["grad_nan_count"] == ""

    with open(out / "node_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 40 * 32
    ops = {n.key: n.op for n in structure.nodes}
    assert all(r["op"] == ops[r["node_key"]] for r in rows)
    nan_row = next(r for r in rows if r["iteration"] == "36" and r["nan_count"] != "0")
    assert nan_row["norm"] == "nan" and nan_row["max"] == "inf" and nan_row["nan_count"] == "17"

    with open(out / "events.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["iteration"], r["kind"], r["op"]) for r in rows] == \
        [("36", EVENT_NONFINITE, "AddmmBackward0")]


# --------------------------------------------------------------------------------------------
# building blocks

def test_array_codec_validates_before_decoding():
    dtype, shape, data = encode_array(np.arange(6, dtype=">f4").reshape(2, 3))
    assert dtype == "<f4" and shape == (2, 3)
    np.testing.assert_array_equal(decode_array(data, dtype, shape),
                                  np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(ArrayDecodeError, match="needs 24 bytes, found 20"):
        decode_array(data[:20], dtype, shape)
    with pytest.raises(ArrayDecodeError, match="not an allowed array dtype"):
        decode_array(data, "|O8", (3,))
    with pytest.raises(ArrayDecodeError, match="not an allowed array dtype"):
        decode_array(data, ">f4", shape)
    with pytest.raises(ArrayDecodeError, match="non-negative"):
        decode_array(data, dtype, (-2, -3))
    with pytest.raises(TypeError, match="dtype object"):
        encode_array(np.array([None]))
    assert narrow_counts(np.array([0, 255])).dtype == np.uint8
    assert narrow_counts(np.array([70000])).dtype == np.uint32
    assert narrow_counts(np.array([2 ** 40])).dtype == np.uint64


def test_stats_and_histogram_from_array():
    a = np.array([3.0, -4.0, np.nan, np.inf, 0.0], dtype=np.float32)
    s = Stats.from_array(a)
    finite = np.array([3.0, -4.0, 0.0])
    assert s.norm == 5.0 and s.nan_count == 1 and s.inf_count == 1
    assert s.mean == pytest.approx(finite.mean()) and s.std == pytest.approx(finite.std())
    assert (s.min, s.max) == (-4.0, 3.0)
    empty = Stats.from_array(np.array([np.nan]))
    assert math.isnan(empty.norm) and empty.nan_count == 1
    h = Histogram.from_array(a, bins=7)
    assert h.bins == 7 and h.counts.sum() == 3 and h.edges.dtype == np.float32
    assert h.edges[0] == -4.0 and h.edges[-1] == 3.0
    with pytest.raises(ValueError, match="len\\(edges\\) - 1 counts"):
        Histogram(edges=np.array([0.0, 1.0]), counts=[1, 2])
    with pytest.raises(ValueError, match="must not be negative"):
        Histogram(edges=np.array([0.0, 1.0]), counts=[-1])
