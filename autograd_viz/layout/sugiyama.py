"""The layered layout: ``layout(graph)`` runs ranking, dummies, crossing reduction and
coordinates, and maps the result onto the screen for the chosen direction."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import time
from dataclasses import dataclass
from types import MappingProxyType

import networkx as nx
import numpy as np

from .bands import band_layers
from .collapse import collapse_groups
from .coordinates import Spacing, assign_breadth, assign_depth, straighten_columns
from .geometry import Frame, edge_polylines, group_boxes
from .keys import canonical_key, group_path
from .layering import rank
from .ordering import initial_order, reduce_crossings
from .proper import build_proper
from .result import Layout

__all__ = ["LayoutOptions", "layout", "DIRECTIONS"]

DIRECTIONS = ("TB", "BT", "LR", "RL")


@dataclass(frozen=True)
class LayoutOptions:
    """Everything that shapes a layout (hashable: part of the cache key).

    ``direction``: 'TB' (roots at the top), 'BT', 'LR' (roots on the left) or 'RL'.
    Node boxes are ``len(longest label line) * char_width + 2 * pad_x`` wide (at least
    ``min_width``) and ``lines * line_height + 2 * pad_y`` tall; the defaults fit a
    12 px monospace font. ``node_sep``: gap between boxes in a layer; ``edge_sep``: gap
    between edge lines; ``rank_sep``: gap between layers. ``group_pad``: room a group
    box leaves around its members; ``group_label``: extra room on top for its name.
    ``bundle``: long edges into one shared node (or out of one node) share a trunk.
    ``initial_order``: 'dfs' or 'sorted' (the order crossing reduction starts from).
    """

    direction: str = "TB"
    node_sep: float = 24.0
    edge_sep: float = 10.0
    rank_sep: float = 36.0
    char_width: float = 7.2
    line_height: float = 16.0
    pad_x: float = 10.0
    pad_y: float = 6.0
    min_width: float = 48.0
    group_pad: float = 8.0
    group_label: float = 14.0
    bundle: bool = True
    max_sweeps: int = 12
    initial_order: str = "dfs"
    l2_iterations: int = 0
    l1_iterations: int = 1

    def __post_init__(self):
        if not isinstance(self.direction, str) or self.direction.upper() not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {self.direction!r}")
        object.__setattr__(self, "direction", self.direction.upper())
        for f in ("node_sep", "edge_sep", "rank_sep", "char_width", "line_height", "pad_x",
                  "pad_y", "min_width", "group_pad", "group_label"):
            value = getattr(self, f)
            if not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"layout option {f} must be a number >= 0, not {value!r}")
        for f in ("max_sweeps", "l2_iterations", "l1_iterations"):
            value = getattr(self, f)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"layout option {f} must be an int >= 0, not {value!r}")
        if self.initial_order not in ("dfs", "sorted"):
            raise ValueError(f"initial_order must be 'dfs' or 'sorted', not {self.initial_order!r}")

    def spacing(self) -> Spacing:
        pad, lab = self.group_pad, self.group_label
        if self.direction == "TB":
            margins = (pad, pad, pad + lab, pad)
        elif self.direction == "BT":
            margins = (pad, pad, pad, pad + lab)
        else:  # LR, RL: layers run left to right, a layer's low side is the top
            margins = (pad + lab, pad, pad, pad)
        return Spacing(self.node_sep, self.edge_sep, self.rank_sep, *margins)

    def with_overrides(self, **overrides) -> "LayoutOptions":
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown layout option(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **overrides) if overrides else self


def node_box(label: str, opts: LayoutOptions) -> tuple[float, float]:
    """``(w, h)`` of a node box drawn with ``label`` (one box line per text line)."""
    lines = label.split("\n")
    w = max(opts.min_width, max(len(line) for line in lines) * opts.char_width + 2 * opts.pad_x)
    return w, len(lines) * opts.line_height + 2 * opts.pad_y


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector for the duration.

    A layout allocates some 10^5 small lists and tuples that all stay alive until it
    returns and form no reference cycles; the collector would scan them over and over
    (about a fifth of the run time at 10,000 nodes). Reference counting still frees
    everything as usual. The previous state is restored, so nesting and concurrent
    layouts in two threads leave the collector enabled afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def layout(graph: nx.DiGraph, options: LayoutOptions | None = None, *, collapsed=(),
           **overrides) -> Layout:
    """Lay out ``graph`` in layers; see :class:`LayoutOptions` for ``overrides``.

    ``graph``: a networkx DiGraph, edges pointing the way gradients flow (root loss ->
    ... -> AccumulateGrad leaves). Node attributes read: ``label`` (text drawn, sets the
    box size; the key's ``str`` when missing) and ``group`` (module path such as
    ``'features.0'``; None or '' for none). ``collapsed``: group names drawn as one box
    each, keyed ``GroupNode(name)`` (see :func:`~.collapse.collapse_groups`).

    Deterministic: the result depends on the graph's content, not on insertion order.
    """
    if not isinstance(graph, nx.DiGraph):
        raise TypeError(f"layout() needs a networkx.DiGraph, not {type(graph).__name__}")
    opts = (options or LayoutOptions()).with_overrides(**overrides)
    with _cyclic_gc_paused():
        return _layout(graph, opts, collapsed)


def _layout(graph: nx.DiGraph, opts: LayoutOptions, collapsed) -> Layout:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    g2, members, box_of = collapse_groups(graph, collapsed)
    ranking = rank(g2)
    keys = ranking.keys
    n = len(keys)
    attrs = [g2.nodes[k] for k in keys]

    labels = []
    for k, a in zip(keys, attrs):
        label = a.get("label")
        labels.append(str(k) if label is None else str(label))
    sizes = [node_box(label, opts) for label in labels]
    paths = [group_path(a.get("group")) for a in attrs]
    names = sorted({g for p in paths for g in p})
    gid = {g: i for i, g in enumerate(names)}
    id_paths = [tuple(gid[g] for g in p) for p in paths]
    # Each group a band of layers of its own (sibling boxes never overlap); groups whose
    # nodes interleave with others' (a module called at several places) get no box.
    ranking.layer, dissolved = band_layers(n, ranking.edges, id_paths, ranking.layer)
    pg = build_proper(ranking, id_paths, opts.bundle)
    lap("rank")

    start = initial_order(pg, opts.initial_order)
    layers, before, after = reduce_crossings(pg, start, opts.max_sweeps)
    lap("order")

    horizontal = opts.direction in ("TB", "BT")
    bsize = [w if horizontal else h for w, h in sizes] + [0.0] * (pg.n - n)
    dsize = [h if horizontal else w for w, h in sizes] + [0.0] * (pg.n - n)
    sp = opts.spacing()
    x, seps = assign_breadth(pg, layers, bsize, sp, ranking.edges, opts.l2_iterations, opts.l1_iterations)
    straighten_columns(pg, layers, x, seps)
    centre = assign_depth(pg, layers, dsize, sp)
    lap("coordinates")
    layer = pg.layer

    # -- onto the screen ------------------------------------------------------------------
    xa = np.asarray(x, dtype=float)
    centre_a = np.asarray(centre, dtype=float)
    bs_a = np.asarray(bsize, dtype=float)
    ds_a = np.asarray(dsize, dtype=float)
    boxes = group_boxes(pg, x, centre, bsize, dsize, sp)
    frame = Frame.around(opts.direction, pg, ranking.self_loops, xa, centre_a, bs_a, ds_a, boxes)
    real_d = centre_a[np.asarray(layer[:n], dtype=np.int64)]
    xs, ys = frame.arrays(xa[:n], real_d)
    positions = dict(zip(keys, zip(xs.tolist(), ys.tolist())))
    screen_sizes = dict(zip(keys, sizes))
    polylines = edge_polylines(pg, ranking, frame, xa, centre_a, bs_a, ds_a)
    index = ranking.index
    reversed_ids = ranking.reversed_edges
    edges = {}
    for u, v in g2.edges():
        a, b = index[u], index[v]
        if a == b:
            edges[(u, v)] = polylines[("loop", a)]
        elif (a, b) in reversed_ids:
            edges[(u, v)] = polylines[(b, a)][::-1]
        else:
            edges[(u, v)] = polylines[(a, b)]
    groups = {names[g]: frame.box(*box) for g, box in boxes.items() if g not in dissolved}
    bounds = frame.bounds

    lap("output")
    proxy = MappingProxyType
    reversed_edges = frozenset((keys[a], keys[b]) for a, b in ranking.reversed_edges)
    return Layout(
        positions=proxy(positions), sizes=proxy(screen_sizes), edges=proxy(edges),
        groups=proxy(groups), bounds=bounds, direction=opts.direction,
        crossings=after, initial_crossings=before,
        layer_of=proxy({k: layer[v] for v, k in enumerate(keys)}),
        labels=proxy(dict(zip(keys, labels))),
        collapsed_members=proxy(dict(sorted(members.items(), key=lambda kv: canonical_key(kv[0])))),
        reversed_edges=reversed_edges, dummy_count=pg.n - n, n_layers=pg.n_layers,
        unboxed_groups=frozenset(names[g] for g in dissolved),
        timings=proxy(timings), _box_of=proxy(box_of))
