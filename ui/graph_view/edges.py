"""All edges as a few painter paths: unique segments, one path per colour bucket.

The layout bundles long edges into shared trunks, so many edges run over the same
segments (an unrolled RNN's shared weights: ~400,000 segment uses, ~7,000 distinct).
``EdgeSegments`` flattens every polyline (plus its arrowhead wings) into segments with
numpy once per structure and keeps only the distinct ones; each distinct segment is
drawn in the most severe bucket of the edges that use it. Paths are built from arrays
by pyqtgraph's ``arrayToQPath`` (binary, no Python loop per segment).
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from pyqtgraph.functions import arrayToQPath

ARROW_LEN, ARROW_HALF = 7.0, 3.5


class EdgeSegments:
    """Distinct segments of ``polylines`` (list of [(x, y), ...], one per edge).

    ``arrow_at_end``: arrowheads at the last point (backward) or the first (forward).
    """

    def __init__(self, polylines: list, arrow_at_end: bool = True, tile: float = 700.0):
        self.n_edges = len(polylines)
        self.tile = tile
        self.tile_of = np.zeros(0, dtype=np.int64)
        self._tile_members: dict | None = None   # tile -> its segments, made on first regroup
        if not polylines:
            self.unique = np.zeros((0, 4))
            self.edge_of = np.zeros(0, dtype=np.int64)
            self._order = self._starts = np.zeros(0, dtype=np.int64)
            return
        counts = np.fromiter((len(p) for p in polylines), dtype=np.int64, count=len(polylines))
        flat = chain.from_iterable(chain.from_iterable(polylines))
        pts = np.fromiter(flat, dtype=np.float64, count=2 * int(counts.sum())).reshape(-1, 2)
        ends = np.cumsum(counts)
        first = ends - counts
        is_start = np.ones(len(pts), dtype=bool)
        is_start[ends - 1] = False
        starts = np.nonzero(is_start)[0]
        segs = np.hstack([pts[starts], pts[starts + 1]])
        edge_of = np.repeat(np.arange(len(polylines)), counts - 1)
        # arrowheads: two wings per edge at its tip
        good = counts >= 2
        idx = np.nonzero(good)[0]
        if arrow_at_end:
            tip, prev = pts[ends[idx] - 1], pts[ends[idx] - 2]
        else:
            tip, prev = pts[first[idx]], pts[first[idx] + 1]
        d = tip - prev
        norm = np.hypot(d[:, 0], d[:, 1])
        norm[norm == 0] = 1.0
        d /= norm[:, None]
        base = tip - ARROW_LEN * d
        perp = np.stack([-d[:, 1], d[:, 0]], axis=1) * ARROW_HALF
        wing1 = np.hstack([base + perp, tip])
        wing2 = np.hstack([base - perp, tip])
        segs = np.vstack([segs, wing1, wing2])
        edge_of = np.concatenate([edge_of, idx, idx])
        # distinct segments (coordinates rounded so equal trunk points match exactly)
        q = np.round(segs * 100.0).astype(np.int64)   # 0.01-unit grid: equal trunk points match
        q -= q.min(axis=0)
        a = (q[:, 0] << 32) | q[:, 1]
        b = (q[:, 2] << 32) | q[:, 3]
        order = np.lexsort((b, a))
        a, b = a[order], b[order]
        self._starts = np.concatenate([[0], np.nonzero((a[1:] != a[:-1]) | (b[1:] != b[:-1]))[0] + 1])
        self._order = order
        self.unique = segs[order[self._starts]]
        self.edge_of = edge_of
        # Square tiles of the scene: one path per (bucket, tile), so a zoomed-in view
        # only strokes the paths of the tiles it shows (the BSP index skips the rest).
        mid = (self.unique[:, :2] + self.unique[:, 2:]) / 2
        t = np.floor(mid / tile).astype(np.int64)
        t -= t.min(axis=0) if len(t) else 0
        self.tile_of = t[:, 0] * 1_000_003 + t[:, 1]

    @property
    def n_segments(self) -> int:
        return len(self.unique)

    def segment_ranks(self, edge_rank: np.ndarray) -> np.ndarray:
        """Rank of each distinct segment: the highest rank among the edges using it."""
        if len(self.unique) == 0:
            return np.zeros(0, dtype=np.int64)
        per_use = edge_rank[self.edge_of][self._order]
        return np.maximum.reduceat(per_use, self._starts)

    def groups(self, seg_rank: np.ndarray) -> dict:
        """(rank, tile) -> indices of the distinct segments drawn in that path."""
        if len(seg_rank) == 0:
            return {}
        key = seg_rank * 4_000_000_000_000 + self.tile_of
        order = np.argsort(key, kind="stable")
        k = key[order]
        cuts = np.nonzero(k[1:] != k[:-1])[0] + 1
        out = {}
        for idx in np.split(order, cuts):
            i0 = idx[0]
            out[(int(seg_rank[i0]), int(self.tile_of[i0]))] = idx
        return out

    def regroup(self, old_rank: np.ndarray, seg_rank: np.ndarray) -> dict:
        """The groups of :meth:`groups` that differ between two segment rankings.

        (rank, tile) -> indices (empty: that path is gone). Only the tiles holding a
        segment whose rank changed are looked at, so a step that recolours a few edges
        costs a few tiles, not a regrouping of every segment.
        """
        changed = np.nonzero(old_rank != seg_rank)[0]
        if len(changed) == 0:
            return {}
        if self._tile_members is None:
            order = np.argsort(self.tile_of, kind="stable")
            t = self.tile_of[order]
            bounds = np.concatenate([[0], np.nonzero(t[1:] != t[:-1])[0] + 1, [len(t)]])
            self._tile_members = {int(t[a]): order[a:b] for a, b in zip(bounds[:-1], bounds[1:])}
        out = {}
        pairs = np.unique(np.stack([self.tile_of[changed], old_rank[changed],
                                    seg_rank[changed]], axis=1), axis=0)
        for tile in np.unique(pairs[:, 0]):
            members = self._tile_members[int(tile)]
            ranks = seg_rank[members]
            sel = pairs[pairs[:, 0] == tile]
            for rank in np.unique(sel[:, 1:]):
                out[(int(rank), int(tile))] = members[ranks == rank]
        return out

    def path(self, mask: np.ndarray):
        """A QPainterPath of the distinct segments selected by ``mask`` (bools or indices)."""
        s = self.unique[mask]
        x = np.empty(2 * len(s))
        y = np.empty(2 * len(s))
        x[0::2], x[1::2] = s[:, 0], s[:, 2]
        y[0::2], y[1::2] = s[:, 1], s[:, 3]
        return arrayToQPath(x, y, connect="pairs")
