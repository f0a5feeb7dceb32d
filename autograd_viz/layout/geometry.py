"""Step 5: from abstract coordinates to screen geometry.

Coordinates so far are abstract: ``b`` along a layer and ``d`` down the layers. Here the
extent is measured in that frame, and one affine map per direction turns it into screen
coordinates starting at (0, 0): 'TB' ``(b, d)``, 'BT' ``(b, -d)``, 'LR' ``(d, b)``,
'RL' ``(-d, b)``, each shifted to the origin. Edge polylines run from the bottom of the
source box (in the abstract frame) through the dummies of their route to the top of the
target box, with collinear dummies dropped.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

from .layering import Ranking
from .proper import ProperGraph

__all__ = ["Frame", "column_bends", "edge_polylines", "group_boxes"]

SELF_LOOP = 12.0  # how far a self-loop reaches beside its node


class Frame:
    """The map from abstract ``(b, d)`` to screen ``(x, y)`` for one direction/extent."""

    def __init__(self, direction: str, b_min: float, b_max: float, d_min: float, d_max: float):
        self.direction = direction
        self.b_min, self.b_max, self.d_min, self.d_max = b_min, b_max, d_min, d_max

    @classmethod
    def around(cls, direction: str, pg: ProperGraph, self_loops, x: np.ndarray, centre: np.ndarray,
               bsize: np.ndarray, dsize: np.ndarray, boxes: dict) -> "Frame":
        """The frame whose extent holds every box, dummy, self-loop and group box."""
        n = pg.n_real
        lo_b, hi_b, lo_d, hi_d = [], [], [], []
        if pg.n:
            lo_b.append(float(x.min()))
            hi_b.append(float(x.max()))
            lo_d.append(float(centre.min()))
            hi_d.append(float(centre.max()))
        if n:
            d = centre[np.asarray(pg.layer[:n], dtype=np.int64)]
            lo_b.append(float((x[:n] - bsize[:n] / 2).min()))
            hi_b.append(float((x[:n] + bsize[:n] / 2).max()))
            lo_d.append(float((d - dsize[:n] / 2).min()))
            hi_d.append(float((d + dsize[:n] / 2).max()))
        for v in self_loops:
            hi_b.append(float(x[v] + bsize[v] / 2 + SELF_LOOP))
        for b0, d0, b1, d1 in boxes.values():
            lo_b.append(b0)
            lo_d.append(d0)
            hi_b.append(b1)
            hi_d.append(d1)
        return cls(direction, min(lo_b, default=0.0), max(hi_b, default=0.0),
                   min(lo_d, default=0.0), max(hi_d, default=0.0))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        bw, dw = self.b_max - self.b_min, self.d_max - self.d_min
        return (0.0, 0.0, bw, dw) if self.direction in ("TB", "BT") else (0.0, 0.0, dw, bw)

    def arrays(self, b: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bb = b - self.b_min
        if self.direction == "TB":
            return bb, d - self.d_min
        if self.direction == "BT":
            return bb, self.d_max - d
        if self.direction == "LR":
            return d - self.d_min, bb
        return self.d_max - d, bb

    def points(self, b, d) -> list[tuple[float, float]]:
        xs, ys = self.arrays(np.asarray(b, dtype=float), np.asarray(d, dtype=float))
        return list(zip(xs.tolist(), ys.tolist()))

    def box(self, b0: float, d0: float, b1: float, d1: float) -> tuple[float, float, float, float]:
        (xa, ya), (xb, yb) = self.points([b0, b1], [d0, d1])
        return (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))


def column_bends(xs: np.ndarray, ds: np.ndarray) -> list[int]:
    """Indices of the interior points where the polyline ``(xs, ds)`` turns."""
    if xs.size < 3:
        return []
    dx0, dd0 = xs[1:-1] - xs[:-2], ds[1:-1] - ds[:-2]
    dx1, dd1 = xs[2:] - xs[1:-1], ds[2:] - ds[1:-1]
    cross = dx0 * dd1 - dd0 * dx1
    scale = (np.abs(xs[2:] - xs[:-2]) + np.abs(ds[2:] - ds[:-2]) + 1.0) ** 2
    return (np.nonzero(np.abs(cross) > 1e-6 * scale)[0] + 1).tolist()


def _turns(p0, p1, p2) -> bool:
    cross = (p1[0] - p0[0]) * (p2[1] - p1[1]) - (p1[1] - p0[1]) * (p2[0] - p1[0])
    return abs(cross) > 1e-6 * (abs(p2[0] - p0[0]) + abs(p2[1] - p0[1]) + 1.0) ** 2


def edge_polylines(pg: ProperGraph, ranking: Ranking, frame: Frame, x: np.ndarray,
                   centre: np.ndarray, bsize: np.ndarray, dsize: np.ndarray) -> dict:
    """Screen polylines keyed by DAG edge ``(a, b)`` (ids), plus ``('loop', a)`` entries."""
    layer = np.asarray(pg.layer, dtype=np.int64)
    col_pts = []
    col_bends = []
    for col in pg.columns:
        ids = np.asarray(col, dtype=np.int64)
        cb, cd = x[ids], centre[layer[ids]]
        col_pts.append(frame.points(cb, cd))
        col_bends.append(column_bends(cb, cd))
    edges = ranking.edges
    out: dict = {}
    if edges:
        a = np.fromiter((e[0] for e in edges), dtype=np.int64, count=len(edges))
        b = np.fromiter((e[1] for e in edges), dtype=np.int64, count=len(edges))
        starts = frame.points(x[a], centre[layer[a]] + dsize[a] / 2)
        ends = frame.points(x[b], centre[layer[b]] - dsize[b] / 2)
        routes = pg.routes
        for e, s, t in zip(edges, starts, ends):
            r = routes.get(e)
            if r is None:
                out[e] = (s, t)
                continue
            c, j0, j1 = r
            cp, bends = col_pts[c], col_bends[c]
            mid = [cp[j0]]
            mid.extend(cp[i] for i in bends[bisect_right(bends, j0):bisect_left(bends, j1 - 1)])
            if j1 - 1 > j0:
                mid.append(cp[j1 - 1])
            # The interior is free of collinear points; check the two joints.
            if len(mid) == 1:
                pts = [s, mid[0], t] if _turns(s, mid[0], t) else [s, t]
            else:
                pts = [s]
                if _turns(s, mid[0], mid[1]):
                    pts.append(mid[0])
                pts.extend(mid[1:-1])
                if _turns(mid[-2], mid[-1], t):
                    pts.append(mid[-1])
                pts.append(t)
            out[e] = tuple(pts)
    for v in ranking.self_loops:
        bx, d, q = x[v] + bsize[v] / 2, centre[layer[v]], dsize[v] / 4
        out[("loop", v)] = tuple(frame.points([bx, bx + SELF_LOOP, bx + SELF_LOOP, bx],
                                              [d - q, d - q, d + q, d + q]))
    return out


def group_boxes(pg: ProperGraph, x, centre, bsize, dsize, sp) -> dict[int, list[float]]:
    """Abstract box ``[b0, d0, b1, d1]`` per group id, around its real members with
    ``lev`` margins for a member ``lev`` levels of nesting below the group."""
    boxes: dict[int, list[float]] = {}
    layer = pg.layer
    for v in range(pg.n_real):
        path = pg.gpath[v]
        if not path:
            continue
        bv, dv = x[v], centre[layer[v]]
        hb, hd = bsize[v] / 2, dsize[v] / 2
        depth = len(path)
        for k, g in enumerate(path):
            lev = depth - k
            b0, b1 = bv - hb - lev * sp.b_low, bv + hb + lev * sp.b_high
            d0, d1 = dv - hd - lev * sp.d_low, dv + hd + lev * sp.d_high
            box = boxes.get(g)
            if box is None:
                boxes[g] = [b0, d0, b1, d1]
            else:
                if b0 < box[0]:
                    box[0] = b0
                if d0 < box[1]:
                    box[1] = d0
                if b1 > box[2]:
                    box[2] = b1
                if d1 > box[3]:
                    box[3] = d1
    return boxes
