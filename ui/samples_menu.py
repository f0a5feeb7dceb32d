"""The samples a user can open from File > Open sample, from ``samples.catalog``.

The catalog (the samples' own list, LeNet first) names each script, describes it in
one line, and offers variants worth a second run (usually ``--fix``).
"""

from __future__ import annotations

from samples.catalog import DEFAULT_SAMPLE, SAMPLES, get_sample


def list_samples() -> list[tuple[str, str, str, tuple]]:
    """(name, path, description, args) for every menu entry: each sample, then each of
    its variants (``nan_hunt --fix``), in the catalog's order."""
    out = []
    for s in SAMPLES:
        out.append((s.name, str(s.path), s.description, ()))
        for label, args in s.variants:
            out.append((f"{s.name} ({label})", str(s.path), f"{s.description} [{label}]", tuple(args)))
    return out


def sample_path(name: str = DEFAULT_SAMPLE) -> str:
    """Path of sample ``name`` ('lenet'); the catalog's ValueError/KeyError names the known ones."""
    return str(get_sample(name).path)
