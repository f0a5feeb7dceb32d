"""A script that makes short-lived containers for a while (ui/gc_guard.py's test)."""

import argparse
import time

p = argparse.ArgumentParser()
p.add_argument("--seconds", type=float, default=1.0)
a = p.parse_args()
end = time.monotonic() + a.seconds
while time.monotonic() < end:
    keep = [{"i": i, "v": [i]} for i in range(1000)]
