"""What watching costs: LeNet training at batch 64, engine alone vs watched vs watched and
recorded to a session file, each mode alone in its own fresh process.

    python benchmarks/watch_overhead.py [--iters 40] [--rounds 5] [--batch 64]
                                        [--hist-every 10] [--device cpu] [--background]

Watched = statistics every iteration, histograms every 10 (the CLI's default). The modes
run through ``benchmarks/_alone.py``: one fresh process per run, alternating alone,
watched, recorded for ``--rounds`` rounds; medians of per-iteration times on the wall clock
and on the process's CPU clock (steadier on a shared machine, but blind to time a
background thread spends on the other core), the paired ratios (median over rounds of
mode / alone within a round), each mode's threads and the load average. Targets (issue
13): watched at most 15% slower than alone, recorded at most 20%; session file at most
20 KB per iteration.

``side(mode, ...)`` is reusable: another benchmark can name ``"watch_overhead:side"`` with
its own kwargs (``background_stats``, ``background_writer``).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _alone import Side, compare, load_text  # noqa: E402

MODES = ("alone", "watched", "recorded")
TARGETS = {"watched": 0.15, "recorded": 0.20}


def lenet_step(batch, device="cpu", log=None):
    """The samples' tutorial LeNet with SGD momentum; ``step(i)`` trains on batch ``i % 4``
    (``log``: called after each step, e.g. ``session.log``)."""
    import engine as torch
    import engine.nn.functional as F
    import engine.optim as optim
    from samples.lenet import Net as LeNet
    torch.manual_seed(0)
    net = LeNet().to(device)
    opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xs = torch.randn(4, batch, 1, 32, 32, device=device)
    ys = torch.randint(0, 10, (4, batch), device=device)
    sync = torch.cuda.synchronize if device != "cpu" else (lambda: None)

    def step(i):
        opt.zero_grad()
        loss = F.cross_entropy(net(xs[i % 4]), ys[i % 4])
        loss.backward()
        opt.step()
        if log is not None:
            log(lr=0.01)
        sync()
        return loss

    return step


def side(mode, batch=64, hist_every=10, device="cpu", background_stats=None,
         background_writer=None):
    """One training step per call in ``mode``: 'alone', 'watched' or 'recorded' (to a
    temporary session file; ``close`` reports its KB per iteration). ``background_stats``
    and ``background_writer`` override the defaults of the watcher and the recorder."""
    if mode == "alone":
        return lenet_step(batch, device)
    import tempfile

    import autograd_viz
    cfg = {"hist_every": hist_every}
    if background_stats is not None:
        cfg["background_stats"] = background_stats
    record, opts, tmp = None, None, None
    if mode == "recorded":
        tmp = tempfile.TemporaryDirectory(prefix="watch-overhead-")
        record = os.path.join(tmp.name, "run.avz")
        if background_writer is not None:
            opts = {"background": background_writer}
    elif mode != "watched":
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    session = autograd_viz.watch(record=record, recorder_options=opts, **cfg)
    step = lenet_step(batch, device, log=session.log)

    def close():
        session.detach()
        if record is None:
            return {}
        kb = os.path.getsize(record) / session.recorder.written / 1024
        tmp.cleanup()
        return {"kb_per_iter": kb}

    step.close = close
    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=40, help="timed iterations per run")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--hist-every", type=int, default=10)
    p.add_argument("--device", default="cpu")
    p.add_argument("--background", action="store_true",
                   help="also watched and recorded with the statistics worker and the "
                        "session writer on background threads (the figures that choose "
                        "WatchConfig.background_stats and Recorder's background default)")
    a = p.parse_args(argv)
    kw = {"batch": a.batch, "hist_every": a.hist_every, "device": a.device}
    sides = [Side(m, "watch_overhead:side", {"mode": m, **kw}, exclude=("torch",)) for m in MODES]
    if a.background:
        sides += [Side(f"{m}+bg", "watch_overhead:side",
                       {"mode": m, **kw, "background_stats": True,
                        **({"background_writer": True} if m == "recorded" else {})},
                       exclude=("torch",)) for m in MODES[1:]]
    res = compare(sides, rounds=a.rounds, steps=a.iters, warmup=3, baseline="alone")
    print(res.report(f"LeNet, batch {a.batch}, on {a.device}: alone, watched, recorded "
                     f"(histograms every {a.hist_every})"))
    print("\noverhead over alone (median step / paired per round):")
    for m in [s.name for s in sides[1:]]:
        cells = "  ".join(f"{clock} {(res.ratio(m, 'alone', clock) - 1) * 100:+6.1f}% / "
                          f"{(res.paired(m, 'alone', clock) - 1) * 100:+6.1f}%"
                          for clock in ("wall", "cpu"))
        print(f"  {m:<12} {cells}   (target <= {TARGETS[m.split('+')[0]]:.0%})")
    kb = sorted(e["kb_per_iter"] for e in res.extra("recorded"))
    print(f"  session   {kb[len(kb) // 2]:.1f} KB per iteration  (target <= 20 KB)")
    print(load_text())


if __name__ == "__main__":
    main()
