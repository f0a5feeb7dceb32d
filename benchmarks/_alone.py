"""The shared benchmark harness: each side of a comparison alone in a fresh Python process.

Two libraries in one process slow each other (after a step, one library's BLAS/OpenMP
workers keep spinning on the cores the other needs: PyTorch's LeNet step at batch 64 took
14.4 ms interleaved with engine, 4.0 ms alone). So every benchmark that compares libraries
or modes runs each measurement in its own process that imports only what that side needs,
alternating the sides (A, B, A, B, ... for ``rounds`` rounds), and compares medians.

A *side* is an importable ``"module:function"`` plus JSON-able keyword arguments. In the
child process, ``function(**kwargs)`` builds the work (imports its library, makes the model,
the data, the optimizer) and returns ``step``, a callable taking the step index ``i``. The
child runs ``step(0) .. step(warmup - 1)`` untimed, then times ``step(warmup) ..
step(warmup + steps - 1)`` one by one (wall clock and process CPU time). A step must have
finished its work when it returns (on a GPU: synchronize inside it). If ``step`` has a
``close`` attribute it is called after the timed steps, and a dict it returns is reported
as that run's ``extra`` (a session file's size, say).

The module named must not import a library at its top level (import it inside the
function), or a side would pay for, and run beside, the other side's library. ``exclude``
names modules a side must not load at all; the child fails if it finds one in
``sys.modules``. The child's ``sys.path`` starts with the repository root and
``benchmarks/``, so ``"lenet_step:side"``, ``"benchmarks.lenet_step:side"`` and
``"tests.benchmarks._sides:noop"`` all import.

For each run the child reports its thread settings (threadpoolctl's ``threadpool_info``,
``engine.get_num_threads()`` / ``torch.get_num_threads()`` where that library is loaded,
``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS``, the Python threads alive
and the OS threads of the process), which libraries it had loaded, and its memory: the
resident set once built, the peak during the steps (``VmHWM`` reset after the build, so
imports and construction are not in it) and ``ru_maxrss``. The parent prints
``os.getloadavg()`` before and after.

Use it from a benchmark::

    from _alone import Side, compare

    def side(lib, batch):                       # runs in the child
        T = importlib.import_module(lib)
        r = recipe(T, batch=batch)              # samples/models: recipe(T, **config)
        return r.step                           # step(i)

    res = compare([Side("engine", "models:side", {"lib": "engine", "batch": 64},
                        exclude=("torch",)),
                   Side("torch", "models:side", {"lib": "torch", "batch": 64},
                        exclude=("engine",))],
                  rounds=5, steps=20, warmup=3, baseline="torch")
    print(res.report("MLP step, batch 64"))
    res.ratio("engine", "torch")                # median step time / median step time

``Side.env`` adds environment variables to that side's processes (``OPENBLAS_NUM_THREADS``
for a thread-count mode, ``ENGINE_MALLOC_TUNING=0`` for a malloc mode). This module
imports only the standard library, in the parent and in the child.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

__all__ = ["Side", "Run", "Comparison", "compare", "thread_settings", "load_text", "fmt_time"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
#: Libraries whose presence in a child is reported (and may be excluded).
WATCHED_MODULES = ("engine", "torch", "numpy", "cupy", "autograd_viz", "threadpoolctl")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: ``name`` (its label), ``target`` (``"module:function"``),
    ``kwargs`` for the function, ``env`` added to its processes' environment, and
    ``exclude``: modules its process must not import."""

    name: str
    target: str
    kwargs: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    exclude: tuple = ()


@dataclass
class Run:
    """One child process: ``side``'s name, its ``round``, per-step ``wall``/``cpu`` seconds,
    and what the child reported (``info``: threads, modules, memory, extra)."""

    side: str
    round: int
    wall: list
    cpu: list
    info: dict
    load: tuple = ()


def load_text(load=None) -> str:
    """``os.getloadavg()`` as text (``load`` given: that triple)."""
    try:
        load = os.getloadavg() if load is None else load
    except OSError:  # pragma: no cover - not on this platform
        return "load average unknown"
    return "load average " + " ".join(f"{x:.2f}" for x in load)


def fmt_time(sec: float) -> str:
    """Seconds as ms (or us below a millisecond), 9 characters wide."""
    return f"{sec * 1e3:7.3f} ms" if sec >= 1e-3 else f"{sec * 1e6:7.1f} us"


class Comparison:
    """The runs of :func:`compare`, in the order they ran, with medians and ratios.

    ``median(name)`` is the median of every timed step of that side over all rounds;
    ``ratio(a, b)`` is ``median(a) / median(b)``; ``paired(a, b)`` is the median over rounds
    of each round's ratio (the two runs of one round ran next to each other, so a load
    change between rounds cancels out). ``clock`` is ``"wall"`` or ``"cpu"``."""

    def __init__(self, sides, runs, *, rounds, steps, warmup, baseline=None, load_before=(),
                 load_after=()):
        self.sides = list(sides)
        self.runs = list(runs)
        self.rounds, self.steps, self.warmup = rounds, steps, warmup
        self.baseline = baseline if baseline is not None else self.sides[0].name
        self.load_before, self.load_after = load_before, load_after

    @property
    def order(self) -> list:
        """(round, side name) of each run, in the order they ran."""
        return [(r.round, r.side) for r in self.runs]

    def _runs(self, name):
        runs = [r for r in self.runs if r.side == name]
        if not runs:
            raise KeyError(f"no runs of side {name!r}")
        return runs

    def times(self, name: str, clock: str = "wall") -> list:
        """Every timed step of side ``name``, all rounds pooled."""
        return [t for r in self._runs(name) for t in getattr(r, clock)]

    def median(self, name: str, clock: str = "wall") -> float:
        return statistics.median(self.times(name, clock))

    def round_medians(self, name: str, clock: str = "wall") -> list:
        return [statistics.median(getattr(r, clock)) for r in self._runs(name)]

    def ratio(self, a: str, b: str, clock: str = "wall") -> float:
        return self.median(a, clock) / self.median(b, clock)

    def paired(self, a: str, b: str, clock: str = "wall") -> float:
        pairs = zip(self.round_medians(a, clock), self.round_medians(b, clock))
        return statistics.median(x / y for x, y in pairs)

    def info(self, name: str) -> dict:
        """What the last run of ``name`` reported (threads, modules, memory, extra)."""
        return self._runs(name)[-1].info

    def extra(self, name: str) -> list:
        """The ``extra`` dict of each run of ``name`` (from ``step.close()``)."""
        return [r.info.get("extra") for r in self._runs(name)]

    def report(self, title: str = "") -> str:
        """A table of medians and ratios, then each side's thread settings and the load."""
        base = self.baseline
        lines = []
        if title:
            lines.append(title)
        lines.append(f"each side alone in a fresh process, alternating, {self.rounds} rounds x "
                     f"{self.steps} timed steps (after {self.warmup} warm-up); medians per step")
        w = max(16, *(len(s.name) for s in self.sides))
        lines.append(f"  {'side':<{w}} {'wall':>10} {'cpu':>10} {'vs ' + base:>10} "
                     f"{'paired':>7} {'RSS MB':>7} {'+steps':>7}")
        for s in self.sides:
            info = self.info(s.name)
            ratio = f"{self.ratio(s.name, base):9.2f}x"
            paired = f"{self.paired(s.name, base):6.2f}x" if s.name != base else f"{'':>7}"
            mem = info.get("memory", {})
            rss = mem.get("rss_built_kb")
            grow = mem.get("step_peak_kb")
            lines.append(f"  {s.name:<{w}} {fmt_time(self.median(s.name)):>10} "
                         f"{fmt_time(self.median(s.name, 'cpu')):>10} {ratio:>10} {paired:>7} "
                         f"{rss / 1024 if rss else float('nan'):7.1f} "
                         f"{(grow - rss) / 1024 if grow and rss else float('nan'):+7.1f}")
        lines.append("  (RSS: resident set once built; +steps: peak during the steps above it)")
        lines.append("threads and libraries, per side (last run):")
        for s in self.sides:
            lines.append(f"  {s.name}: {describe_threads(self.info(s.name))}")
        lines.append(f"{load_text(self.load_before)} before, {load_text(self.load_after)} after")
        return "\n".join(lines)


def describe_threads(info: dict) -> str:
    """One line of a child's thread settings."""
    th = info.get("threads", {})
    parts = []
    for pool in th.get("blas") or []:
        layer = pool.get("threading_layer")
        parts.append(" ".join(x for x in (pool["internal_api"], pool.get("version"),
                                          f"({layer})" if layer else None) if x)
                     + f" {pool['num_threads']} threads")
    if th.get("blas") is None:
        parts.append("threadpoolctl not installed")
    for lib in ("engine", "torch"):
        if lib in th:
            parts.append(f"{lib} {th[lib]}")
    env = th.get("env", {})
    parts.append(" ".join(f"{k}={env.get(k) or '-'}" for k in THREAD_ENV))
    parts.append(f"OS threads {th.get('os_threads', '?')}, Python threads "
                 f"{','.join(th.get('python', []))}")
    parts.append("loaded " + ",".join(info.get("modules", [])))
    return "; ".join(parts)


def compare(sides, *, rounds: int = 5, steps: int = 20, warmup: int = 3,
            baseline: str | None = None, timeout: float = 600, progress: bool = True,
            python: str | None = None) -> Comparison:
    """Run every side ``rounds`` times, each run a fresh process, alternating the sides in
    the order given; return the :class:`Comparison`. ``progress`` prints one line per round
    (to stderr). ``baseline`` names the side ratios are taken against (default: the first)."""
    sides = list(sides)
    names = [s.name for s in sides]
    if len(set(names)) != len(names):
        raise ValueError(f"side names must differ: {names}")
    if baseline is not None and baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the sides {names}")
    load_before = _getload()
    runs = []
    for r in range(rounds):
        for s in sides:
            runs.append(run_side(s, r, steps=steps, warmup=warmup, timeout=timeout,
                                 python=python))
        if progress:
            last = runs[-len(sides):]
            print(f"round {r + 1}/{rounds}: " + "  ".join(
                f"{x.side} {fmt_time(statistics.median(x.wall)).strip()}" for x in last)
                + f"  ({load_text(last[-1].load)})", file=sys.stderr, flush=True)
    return Comparison(sides, runs, rounds=rounds, steps=steps, warmup=warmup,
                      baseline=baseline, load_before=load_before, load_after=_getload())


def _getload():
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover
        return ()


def run_side(side: Side, round_: int = 0, *, steps: int, warmup: int, timeout: float = 600,
             python: str | None = None) -> Run:
    """One fresh process running ``side``: ``warmup`` untimed steps, ``steps`` timed."""
    spec = {"target": side.target, "kwargs": side.kwargs, "steps": steps, "warmup": warmup,
            "exclude": list(side.exclude), "name": side.name}
    env = dict(os.environ, **{k: str(v) for k, v in side.env.items()})
    with tempfile.TemporaryDirectory(prefix="alone-") as tmp:
        out = os.path.join(tmp, "result.json")
        load = _getload()
        proc = subprocess.run([python or sys.executable, os.path.abspath(__file__), "--child",
                               json.dumps(spec), out], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"side {side.name!r} ({side.target} {side.kwargs}) failed with "
                               f"exit code {proc.returncode}:\n{proc.stderr[-4000:]}")
        with open(out) as f:
            res = json.load(f)
    return Run(side.name, round_, res.pop("wall"), res.pop("cpu"), res, tuple(load))


# ---------------------------------------------------------------- the child process
def thread_settings() -> dict:
    """This process's thread settings: BLAS pools (threadpoolctl), engine's and torch's
    thread counts where loaded, the thread environment variables, the Python threads
    alive and the OS threads of the process."""
    import threading
    out: dict = {"env": {k: os.environ.get(k) for k in THREAD_ENV}}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        out["blas"] = None
    else:
        out["blas"] = [{k: p.get(k) for k in ("user_api", "internal_api", "num_threads",
                                                "version", "threading_layer")}
                       for p in threadpool_info()]
    eng = sys.modules.get("engine")
    if eng is not None and hasattr(eng, "get_num_threads"):
        out["engine"] = f"get_num_threads()={eng.get_num_threads()}"
    tor = sys.modules.get("torch")
    if tor is not None and hasattr(tor, "get_num_threads"):
        out["torch"] = (f"get_num_threads()={tor.get_num_threads()} "
                        f"interop={tor.get_num_interop_threads()}")
    out["python"] = [t.name for t in threading.enumerate()]
    out["os_threads"] = _proc_status("Threads")
    return out


def _proc_status(field_name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of the resident set to its current value."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _loaded():
    return [m for m in WATCHED_MODULES if m in sys.modules]


def _check_excluded(spec, when):
    bad = [m for m in spec["exclude"] if m in sys.modules]
    if bad:
        raise RuntimeError(f"side {spec['name']!r} imported {', '.join(bad)} {when}, which it "
                           "must not (import libraries inside the side's function, not at the "
                           "top of its module)")


def child(spec: dict, out_path: str) -> None:
    """Build the side, time its steps, write the result as JSON to ``out_path``."""
    import gc
    import resource
    for p in (BENCH, ROOT):
        if p not in sys.path:
            sys.path.insert(0, p)
    mod_name, _, fn_name = spec["target"].partition(":")
    if not fn_name:
        raise ValueError(f"target {spec['target']!r} is not 'module:function'")
    t0 = time.perf_counter()
    step = getattr(importlib.import_module(mod_name), fn_name)(**spec["kwargs"])
    build_s = time.perf_counter() - t0
    _check_excluded(spec, "while building")
    gc.collect()
    rss_built = _proc_status("VmRSS")
    hwm_reset = _reset_peak_rss()
    for i in range(spec["warmup"]):
        step(i)
    wall, cpu = [], []
    clock, cpu_clock = time.perf_counter, time.process_time
    for i in range(spec["warmup"], spec["warmup"] + spec["steps"]):
        w0, c0 = clock(), cpu_clock()
        step(i)
        w1, c1 = clock(), cpu_clock()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
    hwm = _proc_status("VmHWM") if hwm_reset else None
    _check_excluded(spec, "while stepping")
    modules = _loaded()
    threads = thread_settings()
    close = getattr(step, "close", None)
    extra = close() if close is not None else None
    res = {"wall": wall, "cpu": cpu, "build_s": build_s, "modules": modules, "threads": threads,
           "memory": {"rss_built_kb": rss_built, "step_peak_kb": hwm,
                      "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss},
           "extra": extra if isinstance(extra, dict) else None}
    with open(out_path, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("benchmarks/_alone.py is a library (and its own child process): see its "
                 "docstring")
