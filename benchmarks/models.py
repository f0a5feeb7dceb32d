"""One training step of each whole model (``samples/models``) on the engine and on PyTorch
CPU, each library alone in its own fresh process, alternating (``benchmarks/_alone.py``).

Every model is the recipe its parity test trains (``tests/models``): the same code over
``T = engine`` or ``T = torch``, at the size its module names in ``BENCH`` (the sizes issue 14
sets: the GPT at 4 layers, 128 wide, context 64, batch 16; the LSTM at 2x256, 35 steps,
batch 20; the ResNet at batch 32). A step is the recipe's ``step(i)``: zero_grad, forward on
batch ``i``, backward, clipping, optimizer and scheduler steps. Prints medians, the ratio to
PyTorch (targets: within 1.5x, none worse than 2x), each side's peak memory during the steps
and its thread settings.

Usage: python benchmarks/models.py [--models gpt lstm_lm ...] [--rounds 5] [--steps 10]
                                   [--warmup 2] [--threads N]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _alone import Side, compare, fmt_time  # noqa: E402

#: The models of issue 14, in the order they are reported.
MODELS = ("gpt", "lstm_lm", "gru_classifier", "resnet", "unet", "vae", "vit",
          "policy_gradient", "mlp")
TARGET, WORST = 1.5, 2.0


def side(lib, model, threads=None):
    """Build ``samples.models.<model>`` at its ``BENCH`` size on ``lib``; return its step."""
    T = importlib.import_module(lib)
    if threads:
        T.set_num_threads(int(threads))
    mod = importlib.import_module(f"samples.models.{model}")
    r = mod.recipe(T, **getattr(mod, "BENCH", {}))

    def step(i):
        r.step(i)
    return step


def available(names):
    """The models among ``names`` whose recipe module exists in this checkout."""
    found = []
    for n in names:
        if importlib.util.find_spec(f"samples.models.{n}") is not None:
            found.append(n)
        else:
            print(f"{n}: no recipe samples/models/{n}.py in this checkout; skipped",
                  file=sys.stderr)
    return found


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    sys.path.insert(0, ROOT)
    rows = []
    for name in available(a.models):
        kw = {"model": name, "threads": a.threads}
        res = compare([Side("engine", "models:side", dict(kw, lib="engine"), exclude=("torch",)),
                       Side("torch", "models:side", dict(kw, lib="torch"), exclude=("engine",))],
                      rounds=a.rounds, steps=a.steps, warmup=a.warmup, baseline="torch")
        print(res.report(f"{name}: one training step"), flush=True)
        peak = {s: (res.info(s).get("memory", {}).get("step_peak_kb") or 0) / 1024
                for s in ("engine", "torch")}
        rows.append((name, res.median("engine"), res.median("torch"),
                     res.ratio("engine", "torch"), res.paired("engine", "torch"), peak))
    if not rows:
        return 1
    print("\nsummary (medians per step; peak resident memory during the steps)")
    print(f"  {'model':<16} {'engine':>10} {'torch':>10} {'ratio':>7} {'paired':>7} "
          f"{'eng MB':>7} {'torch MB':>8}  verdict")
    for name, e, t, ratio, paired, peak in rows:
        verdict = ("ok" if ratio <= TARGET else
                   f"over {TARGET}x" if ratio <= WORST else f"OVER {WORST}x")
        print(f"  {name:<16} {fmt_time(e):>10} {fmt_time(t):>10} {ratio:6.2f}x {paired:6.2f}x "
              f"{peak['engine']:7.0f} {peak['torch']:8.0f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
