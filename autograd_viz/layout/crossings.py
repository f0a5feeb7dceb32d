"""Counting edge crossings between adjacent layers, vectorised with numpy.

Two edges ``(u1, v1)`` and ``(u2, v2)`` between the same pair of adjacent layers cross
when ``u1`` is left of ``u2`` and ``v1`` right of ``v2``. Sorting the edges of every
layer pair by (upper position, lower position) turns the count into the number of
inversions of the lower positions, which a bottom-up merge count finds in
O(E log E) numpy work for all layer pairs at once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__ = ["count_crossings", "crossings_of_order", "inversions"]


def inversions(values: np.ndarray) -> int:
    """The number of pairs ``i < j`` with ``values[i] > values[j]`` (integers)."""
    cur = np.asarray(values, dtype=np.int64).ravel()
    n = cur.size
    if n < 2:
        return 0
    cur = cur - cur.min()
    idx = np.arange(n, dtype=np.int64)
    total = 0
    width = 1
    while width < n:
        # Invariant: each run cur[k*width:(k+1)*width] is sorted. Pair run 2p (left) with
        # run 2p+1 (right) and count, for every right element, the larger left ones.
        pair = idx // (2 * width)
        right = ((idx // width) & 1).astype(bool)
        big = int(cur.max()) + 1
        keyed = pair * big + cur  # increasing from pair to pair
        left_keys = keyed[~right]
        right_keys = keyed[right]
        # Every left run that has a right partner is full (width long) and starts at
        # p*width in left_keys.
        not_greater = np.searchsorted(left_keys, right_keys, side="right") - pair[right] * width
        total += int((width - not_greater).sum())
        cur = np.sort(keyed, kind="stable") - pair * big
        width *= 2
    return total


def crossings_of_order(pos: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                       upper_layer: np.ndarray) -> int:
    """Crossings of a proper layered graph.

    ``pos[i]``: node i's index within its layer; edge k joins ``upper[k]`` (in layer
    ``upper_layer[k]``) to ``lower[k]`` in the next layer.
    """
    if upper.size < 2:
        return 0
    pu = pos[upper]
    pl = pos[lower]
    order = np.lexsort((pl, pu, upper_layer))
    width = int(pl.max()) + 1
    # Offsetting by layer keeps pairs of edges from different layer pairs from counting.
    return inversions(upper_layer[order].astype(np.int64) * width + pl[order])


def count_crossings(layers: Sequence[Sequence[Hashable]],
                    edges: Iterable[tuple[Hashable, Hashable]]) -> int:
    """Crossings of the edges between adjacent layers, for the given left-to-right orders.

    ``layers``: one sequence of node keys per layer, in drawing order. ``edges``: pairs of
    nodes in adjacent layers (either direction). Raises ValueError for a node in no layer
    or in two layers, and for an edge that skips a layer (insert dummies first).
    """
    where: dict[Hashable, tuple[int, int]] = {}
    for li, nodes in enumerate(layers):
        for pi, node in enumerate(nodes):
            if node in where:
                raise ValueError(f"node {node!r} appears twice in the layers")
            where[node] = (li, pi)
    ups, lows, ulayer = [], [], []
    for u, v in edges:
        try:
            (lu, pu), (lv, pv) = where[u], where[v]
        except KeyError as exc:
            raise ValueError(f"edge ({u!r}, {v!r}): node {exc.args[0]!r} is in no layer") from None
        if abs(lu - lv) != 1:
            raise ValueError(f"edge ({u!r}, {v!r}) joins layers {lu} and {lv}, which are not adjacent")
        if lu > lv:
            (lu, pu), (lv, pv) = (lv, pv), (lu, pu)
        ups.append(pu)
        lows.append(pv)
        ulayer.append(lu)
    if len(ups) < 2:
        return 0
    # Positions are already per-layer indices: hand them over as nodes 0..E-1 / E..2E-1.
    m = len(ups)
    pos = np.array(ups + lows, dtype=np.int64)
    return crossings_of_order(pos, np.arange(m), np.arange(m, 2 * m), np.array(ulayer, dtype=np.int64))
