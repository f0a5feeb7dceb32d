"""What watching costs: LeNet training at batch 64, engine alone vs watched vs watched and
recorded to a session file, in one run.

    OPENBLAS_NUM_THREADS=1 python benchmarks/watch_overhead.py [--iters 40] [--rounds 5]
                                        [--batch 64] [--device cpu] [--hist-every 10]

Watched = statistics every iteration, histograms every 10 (the CLI's default). The three
modes are interleaved round by round, each round starting with the next mode (so drift
in machine speed, and what one mode leaves behind, hits all alike); every
round is timed on two clocks at once, wall time and this process's CPU time (steadier on a
shared machine; run with OPENBLAS_NUM_THREADS=1 so BLAS threads do not blur it), and the
median round of each mode is reported (the best round beside it, and the median over
rounds of each round's ratio to that round's engine-alone time), with the load average.
Targets (issue 4): watched <= 10% slower than alone, recorded <= 15%, session file <= 20 KB
per iteration.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import engine as torch  # noqa: E402

import engine.nn.functional as F  # noqa: E402
import engine.optim as optim  # noqa: E402

import autograd_viz  # noqa: E402


from samples.lenet import Net as LeNet  # noqa: E402  (the tutorial LeNet the samples train)


def _clocks():
    return time.perf_counter(), time.process_time()


def train(iters, batch, device, session=None):
    """(wall, cpu) seconds per iteration of ``iters`` SGD steps after one warm-up step."""
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
    w0, c0 = _clocks()
    for i in range(1, iters + 1):
        loss = step(i)
    float(loss.item())
    if device != "cpu":
        torch.cuda.synchronize()
    w1, c1 = _clocks()
    return (w1 - w0) / iters, (c1 - c0) / iters


def _load() -> str:
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        return "load average unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=40)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hist-every", type=int, default=10)
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    modes = ("alone", "watched", "recorded")
    times = {k: [] for k in modes}              # per round: (wall, cpu)
    sizes = []
    load_before = _load()
    print(f"{load_before}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            # Each round starts with a different mode: whatever the mode before leaves
            # behind (garbage, a cooler cache, a file being synced) falls on all three alike.
            for mode in modes[r % 3:] + modes[:r % 3]:
                if mode == "alone":
                    times["alone"].append(train(a.iters, a.batch, a.device))
                elif mode == "watched":
                    with autograd_viz.watch(hist_every=a.hist_every) as s:
                        times["watched"].append(train(a.iters, a.batch, a.device, s))
                else:
                    path = os.path.join(tmp, f"run{r}.avz")
                    with autograd_viz.watch(record=path, hist_every=a.hist_every) as s:
                        times["recorded"].append(train(a.iters, a.batch, a.device, s))
                    s.recorder.close()
                    sizes.append(os.path.getsize(path) / s.recorder.written)
            print(f"round {r + 1}: " + "  ".join(
                f"{k} {v[-1][0] * 1e3:.1f}/{v[-1][1] * 1e3:.1f}" for k, v in times.items())
                + "  ms wall/cpu", flush=True)
    print(f"\nLeNet, batch {a.batch}, {a.iters} iterations x {a.rounds} rounds on {a.device}; "
          f"ms per iteration, median round (best round):")
    targets = {"alone": "", "watched": "  (target <= 10%)", "recorded": "  (target <= 15%)"}
    for ci, clock in enumerate(("wall", "cpu")):
        med = {k: statistics.median(t[ci] for t in v) for k, v in times.items()}
        best = {k: min(t[ci] for t in v) for k, v in times.items()}
        print(f" {clock} clock:")
        for k in modes:
            # paired: the median over rounds of this round's time / that round's alone time
            paired = statistics.median(t[ci] / a[ci] - 1 for t, a in zip(times[k], times["alone"]))
            print(f"  {k:<9} {med[k] * 1e3:8.2f} ms  {(med[k] / med['alone'] - 1) * 100:+6.1f}%"
                  f"   (best {best[k] * 1e3:6.2f} ms {(best[k] / best['alone'] - 1) * 100:+6.1f}%;"
                  f" paired {paired * 100:+6.1f}%){targets[k]}")
    print(f"  session  {statistics.median(sizes) / 1024:8.1f} KB per iteration  (target <= 20 KB; "
          f"histograms every {a.hist_every})")
    print(f"  {load_before} before, {_load()} after")


if __name__ == "__main__":
    main()
