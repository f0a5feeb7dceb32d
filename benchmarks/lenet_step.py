"""One LeNet training step on engine and on PyTorch, timed in the same run.

The network is the one of PyTorch's "Neural Networks" tutorial (conv1 1->6 5x5, max pool 2,
conv2 6->16 5x5, max pool 2, fc 400->120->84->10, ReLU). A step is what a training loop
does per batch: ``zero_grad``, forward, ``CrossEntropyLoss``, ``backward``, SGD
(lr=0.01, momentum=0.9) ``step``. Both libraries start from the same weights (copied
through ``state_dict``) and see the same batch.

Timing: for each batch size, ``--warmup`` steps of each library, then ``--steps`` rounds
in which one engine step and one PyTorch step are each timed with ``time.perf_counter``;
the medians are reported. Alternating step by step means a busy machine slows both alike
(the ratio stays meaningful even when the absolute times wobble). PyTorch runs with its
default thread count (``torch.get_num_threads()``, printed) and numpy's BLAS with its own.

Peak memory (batch 256 by default, ``--mem-batch``): each library runs in a fresh
subprocess that imports only itself and builds the model and the batch; then the kernel's
high-water mark of the resident set is reset (``/proc/self/clear_refs``), ``--mem-steps``
steps run, and ``VmHWM`` is read. We print its growth over the resident set before the
first step (everything training adds: activations, saved tensors, gradients, momentum
buffers, engine's reusable scratch buffers) and the absolute peak (which includes each
library's own code: PyTorch's is far larger). ``ru_maxrss`` can't be reset and is inherited
from the parent across exec, so it is only a fallback without /proc. For engine,
``tracemalloc`` also gives the peak of Python-visible allocations during the steps, numpy
buffers included (numpy reports them to tracemalloc; PyTorch's allocator does not, so that
column is engine-only).

Usage: python benchmarks/lenet_step.py [--batches 1 64 256] [--steps 50] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def build_lenet(lib):
    """The tutorial's LeNet written against ``lib`` (``torch`` or ``engine``)."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)

    return Net()


def make_step(lib, net, x, y):
    opt = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    crit = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = crit(net(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def _sync(lib, device):
    if device == "cuda":
        lib.cuda.synchronize()


def time_interleaved(runs, device, warmup, steps, clock=time.perf_counter):
    """Median seconds per step of each (lib, step) in ``runs``, alternating step by step so
    that a busy machine slows every library alike."""
    for lib, step in runs:
        for _ in range(warmup):
            step()
        _sync(lib, device)
    times = [[] for _ in runs]
    for _ in range(steps):
        for i, (lib, step) in enumerate(runs):
            t0 = clock()
            step()
            _sync(lib, device)
            times[i].append(clock() - t0)
    return [statistics.median(t) for t in times]


def _data(batch, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed + batch)
    x = rng.standard_normal((batch, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=batch).astype(np.int64)
    return x, y


def _setup(lib, batch, device, state=None):
    net = build_lenet(lib)
    if state is not None:
        net.load_state_dict(state)
    x, y = _data(batch)
    net = net.to(device)
    xt = lib.tensor(x, device=device)
    yt = lib.tensor(y, device=device)
    return net, make_step(lib, net, xt, yt)


def _state_for_engine(torch_state, engine):
    """A torch state dict (CPU tensors) as engine tensors, through numpy."""
    return {k: engine.tensor(v.detach().cpu().numpy().copy()) for k, v in torch_state.items()}


# ---------------------------------------------------------------- memory (subprocess)
def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _memory_child(which, batch, steps):
    """Run in a fresh subprocess: print a JSON line with the peak-memory figures.

    Baseline = resident set once the library is imported and the model and the batch
    exist, before any step. The kernel's high-water mark is then reset
    (``/proc/self/clear_refs``) and ``steps`` steps run, so the peak includes everything
    training creates: activations, saved tensors, gradients, momentum buffers and, for
    engine, its reusable scratch buffers. ``ru_maxrss`` cannot be reset and is inherited
    across exec, so it is only a fallback where /proc is missing.
    """
    import gc
    import resource
    import tracemalloc
    lib = __import__(which)
    net, step = _setup(lib, batch, "cpu")
    gc.collect()
    procfs = os.path.exists("/proc/self/clear_refs")
    if procfs:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                  # reset VmHWM to the current RSS
        base = _status_kb("VmRSS")
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if which == "engine":
        tracemalloc.start()
    for _ in range(steps):
        step()
    traced = tracemalloc.get_traced_memory()[1] if which == "engine" else None
    peak = _status_kb("VmHWM") if procfs else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"base_kb": base, "peak_kb": peak, "traced_peak_b": traced}))


def measure_memory(which, batch, steps):
    cmd = [sys.executable, os.path.abspath(__file__), "--_memory-child", which,
           "--mem-batch", str(batch), "--mem-steps", str(steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"memory subprocess for {which} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 64, 256])
    ap.add_argument("--steps", type=int, default=50, help="timed steps per batch size")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--mem-batch", type=int, default=256)
    ap.add_argument("--mem-steps", type=int, default=3)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--threads", type=int, default=None,
                    help="limit both libraries to N threads (torch.set_num_threads and "
                         "OPENBLAS_NUM_THREADS/OMP_NUM_THREADS for numpy); default: each "
                         "library's own default")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall: time.perf_counter; cpu: process CPU time (with --threads 1, "
                         "the work done, little disturbed by other processes)")
    ap.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_child:
        _memory_child(args.memory_child, args.mem_batch, args.mem_steps)
        return 0

    if args.threads is not None:        # must precede numpy's import to reach its BLAS
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import numpy as np
    import torch

    import engine

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time

    libs = [("engine", engine), ("torch", torch)]
    if args.device == "cuda":
        libs = [(name, lib) for name, lib in libs if lib.cuda.is_available()]
        missing = {"engine", "torch"} - {name for name, _ in libs}
        if not libs:
            print("SKIP: --device cuda asked for, but CUDA is available neither to engine nor "
                  "to PyTorch on this machine; nothing was timed.")
            return 0
        if missing:
            print(f"note: CUDA is not available to {missing.pop()} here; timing the other only")

    print(f"LeNet training step (zero_grad, forward, CrossEntropyLoss, backward, SGD momentum)"
          f" on {args.device}")
    print(f"torch {torch.__version__} (threads={torch.get_num_threads()}), numpy "
          f"{np.__version__}; warmup {args.warmup}, median of {args.steps} steps, "
          f"{args.clock} clock")
    print(f"{'batch':>6} {'engine ms':>10} {'torch ms':>10} {'ratio':>7}")
    for batch in args.batches:
        torch.manual_seed(0)
        state = build_lenet(torch).state_dict()         # both start from these weights
        runs = []
        for name, lib in libs:
            sd = state if name == "torch" else _state_for_engine(state, engine)
            runs.append((lib, _setup(lib, batch, args.device, sd)[1]))
        times = dict(zip((name for name, _ in libs),
                         time_interleaved(runs, args.device, args.warmup, args.steps, clock)))
        te, tt = times.get("engine"), times.get("torch")
        cells = [f"{t * 1e3:>10.2f}" if t is not None else f"{'n/a':>10}" for t in (te, tt)]
        ratio = f"{te / tt:>7.2f}" if te is not None and tt is not None else f"{'n/a':>7}"
        print(f"{batch:>6} {cells[0]} {cells[1]} {ratio}", flush=True)

    if not args.no_memory and args.device == "cpu":
        print(f"\npeak memory at batch {args.mem_batch} ({args.mem_steps} steps, fresh "
              "subprocess per library; growth of VmHWM over the resident set before the first "
              "step / absolute peak)")
        for which in ("engine", "torch"):
            m = measure_memory(which, args.mem_batch, args.mem_steps)
            line = (f"  {which:<7} +{(m['peak_kb'] - m['base_kb']) / 1024:7.1f} MiB over "
                    f"baseline, peak RSS {m['peak_kb'] / 1024:7.1f} MiB")
            if m["traced_peak_b"] is not None:
                line += f", tracemalloc peak {m['traced_peak_b'] / 2 ** 20:.1f} MiB"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
