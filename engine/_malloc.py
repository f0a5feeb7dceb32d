"""Keep large freed arrays' memory in the process instead of handing it back every step.

numpy allocates array data with the C library's ``malloc``. glibc serves a block of a few
MiB either with a fresh ``mmap`` or from the heap, and gives the heap's free top back to the
kernel as soon as it exceeds a small, self-adjusting threshold. A training step allocates
tens of such blocks (activations saved for backward) and frees them all at its end, so
with the defaults every step faults its memory in again, page by page: measured on the
30-op chain at 1e6 elements, 11,600 page faults and 34 ms of kernel time per step, the
step 1.8x slower than with the memory kept (``benchmarks/malloc_tuning.py``).

PyTorch avoids this with its own allocator paths; we tune glibc once, at import: blocks
under 32 MiB come from the heap, and the heap keeps up to 512 MiB of free top for the next
step. Set ``ENGINE_MALLOC_TUNING=0`` to leave the C library's defaults alone. Other C
libraries (musl, macOS, Windows) are left as they are.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20     # glibc's ceiling for this setting on 64-bit
TRIM_THRESHOLD = 512 << 20


def tune_allocator() -> bool:
    """Apply the settings above on glibc; True when they took effect."""
    if os.environ.get("ENGINE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # only glibc has it (and mallopt with these codes)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune_allocator()
