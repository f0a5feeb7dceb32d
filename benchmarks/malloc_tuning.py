"""The engine alone (no torch in the process), with and without its malloc tuning.

Runs the 30-op chain of ``engine_ops.py`` at 1e6 elements, each setting in its own fresh
process (``benchmarks/_alone.py``, alternating), one with ``ENGINE_MALLOC_TUNING=0``
(glibc's defaults), and prints the median time per forward+backward iteration and the page
faults and kernel time each iteration costs. See engine/_malloc.py for why the tuning exists.

    python benchmarks/malloc_tuning.py [--iters N] [--elements N] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _alone import Side, compare, load_text  # noqa: E402


def side(n):
    """The engine chain as a step; ``close`` reports the tuning and, per step (median), the
    page faults and kernel seconds."""
    import resource

    import engine
    from engine_ops import side as chain_side
    run = chain_side("engine", n)
    usage = []

    def step(i):
        usage.append(resource.getrusage(resource.RUSAGE_SELF))
        run(i)

    def close():
        usage.append(resource.getrusage(resource.RUSAGE_SELF))
        pairs = list(zip(usage, usage[1:]))
        return {"tuned": engine._malloc.TUNED,
                "faults": statistics.median(b.ru_minflt - a.ru_minflt for a, b in pairs),
                "sys_ms": statistics.median(b.ru_stime - a.ru_stime for a, b in pairs) * 1e3}

    step.close = close
    return step


def measure(n, iters, rounds):
    """name -> {tuned, ms, faults, sys_ms}: medians over every step of every round."""
    res = compare([Side("default", "malloc_tuning:side", {"n": n}, {"ENGINE_MALLOC_TUNING": "0"},
                        exclude=("torch",)),
                   Side("tuned", "malloc_tuning:side", {"n": n}, {"ENGINE_MALLOC_TUNING": "1"},
                        exclude=("torch",))],
                  rounds=rounds, steps=iters, warmup=3, progress=False)
    rows = {}
    for name in ("default", "tuned"):
        ex = res.extra(name)
        rows[name] = {"tuned": ex[0]["tuned"], "ms": res.median(name) * 1e3,
                      "faults": statistics.median(e["faults"] for e in ex),
                      "sys_ms": statistics.median(e["sys_ms"] for e in ex)}
    return rows, res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--elements", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one JSON line instead of a table")
    args = ap.parse_args(argv)
    rows, res = measure(args.elements, args.iters, args.rounds)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(res.report(f"30-op chain, {args.elements:,} elements, engine alone, malloc default "
                     "vs tuned"))
    print(f"\n{'malloc':>8} {'ms/iter':>9} {'faults/iter':>12} {'kernel ms/iter':>15}")
    for name, r in rows.items():
        print(f"{name:>8} {r['ms']:9.1f} {r['faults']:12.0f} {r['sys_ms']:15.1f}")
    print(f"\ntuned is {rows['default']['ms'] / rows['tuned']['ms']:.2f}x faster; {load_text()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
