"""The engine alone (no torch in the process), with and without its malloc tuning.

Runs the 30-op chain of ``engine_ops.py`` at 1e6 elements in two fresh processes, one with
``ENGINE_MALLOC_TUNING=0`` (glibc's defaults), and prints the median time per
forward+backward iteration and the page faults and kernel time each iteration costs.
See engine/_malloc.py for why the tuning exists.

    python benchmarks/malloc_tuning.py [--iters N] [--elements N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = """
import json, resource, statistics, sys, time
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import engine
from engine_ops import _once, _setup
st = _setup(engine, {n})
for _ in range(3):
    _once(st)
times = []
r0 = resource.getrusage(resource.RUSAGE_SELF)
for _ in range({iters}):
    times.append(_once(st))
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"tuned": engine._malloc.TUNED, "ms": statistics.median(times) * 1e3,
                  "faults": (r1.ru_minflt - r0.ru_minflt) / {iters},
                  "sys_ms": (r1.ru_stime - r0.ru_stime) / {iters} * 1e3}}))
"""


def measure(tuning: bool, n: int, iters: int) -> dict:
    env = dict(os.environ, ENGINE_MALLOC_TUNING="1" if tuning else "0")
    code = _CHILD.format(root=ROOT, bench=os.path.join(ROOT, "benchmarks"), n=n, iters=iters)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--elements", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true", help="one JSON line instead of a table")
    args = ap.parse_args(argv)
    rows = {"default": measure(False, args.elements, args.iters),
            "tuned": measure(True, args.elements, args.iters)}
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"30-op chain, {args.elements:,} elements, engine alone, median of {args.iters}")
    print(f"{'malloc':>8} {'ms/iter':>9} {'faults/iter':>12} {'kernel ms/iter':>15}")
    for name, r in rows.items():
        print(f"{name:>8} {r['ms']:9.1f} {r['faults']:12.0f} {r['sys_ms']:15.1f}")
    print(f"\ntuned is {rows['default']['ms'] / rows['tuned']['ms']:.2f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
