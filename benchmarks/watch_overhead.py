"""What watching costs: LeNet training at batch 64, engine alone vs watched vs watched and
recorded to a session file, in one run.

    python benchmarks/watch_overhead.py [--iters 40] [--rounds 3] [--batch 64] [--device cpu]
                                        [--clock wall|cpu]

Watched = statistics every iteration, histograms every 10 (the CLI's default). The three
modes are interleaved round by round (so drift in machine speed hits all alike) and the
fastest round of each is reported. Targets (issue 4): watched <= 10% slower than alone,
recorded <= 15%, session file <= 20 KB per iteration.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import engine as torch  # noqa: E402

try:
    import engine.nn as nn  # noqa: E402
    import engine.nn.functional as F  # noqa: E402
    import engine.optim as optim  # noqa: E402
except ImportError as e:  # pragma: no cover - engine.nn still being written
    sys.exit(f"watch_overhead: needs engine.nn and engine.optim ({e})")

import autograd_viz  # noqa: E402


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def train(iters, batch, device, session=None):
    """Seconds per iteration of ``iters`` SGD steps (after one warm-up step), on the
    chosen clock (``--clock cpu``: this process's CPU time, steadier on a shared
    machine; run with OPENBLAS_NUM_THREADS=1 so BLAS threads do not blur it)."""
    torch.manual_seed(0)
    net = LeNet().to(device)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xs = torch.randn(4, batch, 1, 32, 32, device=device)
    ys = torch.randint(0, 10, (4, batch), device=device)

    def step(i):
        opt.zero_grad()
        loss = F.cross_entropy(net(xs[i % 4]), ys[i % 4])
        loss.backward()
        opt.step()
        if session is not None:
            session.log(lr=0.01)
        return loss

    step(0)
    if device != "cpu":
        torch.cuda.synchronize()
    t0 = clock()
    for i in range(1, iters + 1):
        loss = step(i)
    float(loss.item())
    if device != "cpu":
        torch.cuda.synchronize()
    return (clock() - t0) / iters


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=40)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hist-every", type=int, default=10)
    p.add_argument("--device", default="cpu")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall time (default) or this process's CPU time")
    a = p.parse_args(argv)
    global clock
    clock = CLOCKS[a.clock]
    times = {"alone": [], "watched": [], "recorded": []}
    sizes = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            times["alone"].append(train(a.iters, a.batch, a.device))
            with autograd_viz.watch(hist_every=a.hist_every) as s:
                times["watched"].append(train(a.iters, a.batch, a.device, s))
            path = os.path.join(tmp, f"run{r}.avz")
            with autograd_viz.watch(record=path, hist_every=a.hist_every) as s:
                times["recorded"].append(train(a.iters, a.batch, a.device, s))
            s.recorder.close()
            sizes.append(os.path.getsize(path) / s.recorder.written)
            print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1] * 1e3:.1f} ms" for k, v in times.items()),
                  flush=True)
    best = {k: min(v) for k, v in times.items()}
    print(f"\nLeNet, batch {a.batch}, {a.iters} iterations x {a.rounds} rounds on {a.device} "
          f"(best round, {a.clock} ms per iteration):")
    for k, v in best.items():
        over = (v / best["alone"] - 1) * 100
        target = {"alone": "", "watched": "  (target <= 10%)", "recorded": "  (target <= 15%)"}[k]
        print(f"  {k:<9} {v * 1e3:8.2f} ms  {over:+6.1f}%{target}")
    print(f"  session  {min(sizes) / 1024:8.1f} KB per iteration  (target <= 20 KB; "
          f"histograms every {a.hist_every})")


if __name__ == "__main__":
    main()
