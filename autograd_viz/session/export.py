"""What ``autograd-viz info`` and ``autograd-viz export --csv`` need, as plain functions.

:func:`summarize` returns :meth:`SessionReader.summary` for a path; :func:`export_csv` writes
the run's numbers as CSV files for a spreadsheet or pandas:

- ``losses.csv``: iteration, wall_time, samples_per_s, loss, then one column per metric;
- ``param_stats.csv``: one row per (iteration, parameter);
- ``node_stats.csv``: one row per (iteration, node), with the node's op;
- ``events.csv``: one row per event.

Floats are written exactly (Python ``repr``, ``nan``/``inf`` included); a missing value is an
empty cell.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .errors import SessionError
from .reader import SessionReader

__all__ = ["summarize", "export_csv", "CSV_FILES"]

CSV_FILES = ("losses.csv", "param_stats.csv", "node_stats.csv", "events.csv")

_STATS = ("norm", "mean", "std", "min", "max", "nan_count", "inf_count")


def summarize(path: str | os.PathLike) -> dict:
    """The JSON-ready summary of the session at ``path`` (see :meth:`SessionReader.summary`)."""
    with SessionReader(path) as reader:
        return reader.summary()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def export_csv(path: str | os.PathLike, out_dir: str | os.PathLike) -> list[Path]:
    """Write :data:`CSV_FILES` for the session at ``path`` into ``out_dir`` (created if
    missing, existing files replaced) and return their paths."""
    out = Path(out_dir)
    with SessionReader(path) as reader:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SessionError(out, f"cannot create the export directory: "
                                    f"{exc.strerror or exc}") from None
        written = []
        try:
            written.append(_write_losses(reader, out / "losses.csv"))
            written.append(_write_param_stats(reader, out / "param_stats.csv"))
            written.append(_write_node_stats(reader, out / "node_stats.csv"))
            written.append(_write_events(reader, out / "events.csv"))
        except OSError as exc:
            raise SessionError(getattr(exc, "filename", None) or out,
                               f"cannot write CSV: {exc.strerror or exc}") from None
    return written


def _write_losses(reader: SessionReader, target: Path) -> Path:
    rows = list(reader.scalars())
    metric_names: dict[str, None] = {}
    for _, _, _, metrics, _ in rows:
        metric_names.update(dict.fromkeys(metrics))
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["iteration", "wall_time", "samples_per_s", "loss", *metric_names])
        for it, wall_time, loss, metrics, sps in rows:
            w.writerow([it, _cell(wall_time), _cell(sps), _cell(loss),
                        *(_cell(metrics.get(name)) for name in metric_names)])
    return target


def _write_param_stats(reader: SessionReader, target: Path) -> Path:
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["iteration", "name", *(f"grad_{s}" for s in _STATS),
                    "weight_norm", "update_norm", "update_ratio"])
        for it, stats in reader.param_stats_history():
            for name, p in stats.items():
                grad = [None] * len(_STATS) if p.grad is None else \
                    [getattr(p.grad, s) for s in _STATS]
                w.writerow([it, name, *map(_cell, grad), _cell(p.weight_norm),
                            _cell(p.update_norm), _cell(p.update_ratio)])
    return target


def _write_node_stats(reader: SessionReader, target: Path) -> Path:
    ops: dict[str, dict] = {}
    structure_of = reader.iteration_structures()
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["iteration", "node_key", "op", *_STATS])
        for it, stats in reader.node_stats_history():
            sid = structure_of.get(it)
            if sid is not None and sid not in ops:
                ops[sid] = {n.key: n.op for n in reader.structure(sid).nodes}
            node_ops = ops.get(sid, {})
            for key, s in stats.items():
                w.writerow([it, key, node_ops.get(key, ""),
                            *(_cell(getattr(s, name)) for name in _STATS)])
    return target


def _write_events(reader: SessionReader, target: Path) -> Path:
    with open(target, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["iteration", "kind", "node_key", "op", "source", "message"])
        for e in reader.events():
            w.writerow([e.iteration, e.kind, _cell(e.node_key), _cell(e.op), _cell(e.source),
                        e.message])
    return target
