"""The graph scene: maps a GraphSpec + Placement to built-in C++ graphics items.

Performance choices (DESIGN.md, large graphs): one ``QGraphicsPathItem`` per node and
plain ``QGraphicsSimpleTextItem`` labels (no Python ``paint()``), a BSP index (the
scene is static between layouts), edges drawn as a handful of ``QPainterPath`` items
(one per colour/width bucket, arrowheads included), and labels hidden below a zoom
level by ``set_labels_visible``. Per-frame updates touch only what changed: node items
whose state or health changed, and the edge paths of the tiles where a segment changed
bucket. Zoomed far out, edge paths are cached as device pixmaps and node borders are one
pixel wide (``set_edge_cache``, ``set_thin_borders``), so a repaint after a step at 2,000
nodes stays well under 33 ms (``benchmarks/gui_speed.py``).
"""

from __future__ import annotations

from typing import Hashable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from . import palette
from .edges import EdgeSegments
from .spec import COLLAPSED_OP, GraphLook, GraphSpec, NodeSpec, Placement

NODE_DATA_INDEX = 0  # QGraphicsItem.data key holding the node's index
KIND_KEY = 1         # QGraphicsItem.data key: 'node' or 'group'
Z_GROUP, Z_EDGES, Z_NODES, Z_MARKS = -10.0, 0.0, 10.0, 20.0
_FONTS: dict = {}


def _font(kind: str) -> QtGui.QFont:
    """The label fonts, made once a QApplication exists (so they get its sans family)."""
    f = _FONTS.get(kind)
    if f is None:
        f = QtGui.QFont(QtWidgets.QApplication.font())
        f.setStyleHint(QtGui.QFont.StyleHint.SansSerif)
        if kind == "title":
            f.setPointSizeF(8.5)
            f.setBold(True)
        elif kind == "sub":
            f.setPointSizeF(7.5)
        else:
            f.setPointSizeF(8.0)
            f.setItalic(True)
        _FONTS[kind] = f
    return f

EDGE_CACHE_MAX_BYTES = 6_000_000   # of Qt's 10 MB pixmap cache, for cached edge paths

MIN_W, PAD_X, LINE_H = 70.0, 10.0, 14.0


def node_size(spec: NodeSpec) -> tuple[float, float]:
    """The box size a node needs to show its title and subtitle (scene units)."""
    tm = QtGui.QFontMetricsF(_font("title"))
    sm = QtGui.QFontMetricsF(_font("sub"))
    w = tm.horizontalAdvance(spec.title)
    if spec.subtitle:
        w = max(w, sm.horizontalAdvance(spec.subtitle))
    h = 2 * LINE_H + 8 if spec.subtitle else LINE_H + 10
    return max(MIN_W, min(w + 2 * PAD_X, 260.0)), h


class GraphScene(QtWidgets.QGraphicsScene):
    """Owns the items of one graph; the view handles input and zoom."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setItemIndexMethod(QtWidgets.QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setBackgroundBrush(palette.BACKGROUND)
        self.spec: GraphSpec | None = None
        self.placement: Placement | None = None
        self.direction = "backward"
        self.labels_visible = True
        self.thin_edges = False
        self.thin_borders = False
        self._edge_cache_mode = QtWidgets.QGraphicsItem.CacheMode.NoCache
        self._ids: list = []
        self._rects: list = []
        self._labelled: set = set()
        self._index: dict = {}
        self._node_items: dict = {}
        self._labels: list = []
        self._group_items: dict = {}
        self._edge_items: dict = {}
        self._edge_list: list = []
        self._edge_pos: dict = {}
        self._segments = EdgeSegments([])
        self._edge_rank = np.zeros(0, dtype=np.int64)
        self._seg_rank = None
        self._applied: dict = {}
        self._rank_cache: dict = {}     # norm -> bucket rank
        self._pens: dict = {}           # (leaf, health, thin) -> node border pen
        self._bp_items: dict = {}
        self._current_ring = self._make_ring(palette.CURRENT_PEN)
        self._selected_ring = self._make_ring(palette.SELECTED_PEN)
        self.current: Hashable | None = None
        self.selected: Hashable | None = None

    # ------------------------------------------------------------------ build
    def _make_ring(self, pen) -> QtWidgets.QGraphicsPathItem:
        ring = QtWidgets.QGraphicsPathItem()
        ring.setPen(pen)
        ring.setZValue(Z_MARKS)
        ring.setVisible(False)
        self.addItem(ring)
        return ring

    def clear_graph(self):
        for items in (self._node_items.values(), self._group_items.values(),
                      self._edge_items.values(), self._bp_items.values()):
            for it in list(items):
                self.removeItem(it)
        self._ids, self._index, self._node_items, self._labels = [], {}, {}, []
        self._rects, self._labelled = [], set()
        self._group_items, self._edge_items, self._bp_items = {}, {}, {}
        self._edge_list, self._edge_pos, self._applied = [], {}, {}
        self._segments = EdgeSegments([])
        self._edge_rank = np.zeros(0, dtype=np.int64)
        self._seg_rank = None
        self._current_ring.setVisible(False)
        self._selected_ring.setVisible(False)
        self.spec = self.placement = None

    def set_graph(self, spec: GraphSpec, placement: Placement, look: GraphLook | None = None):
        """Rebuild every item for a new structure or layout (not per frame).

        Node labels are not made here: ``ensure_labels`` makes them for the part of the
        scene a view shows once it is zoomed in enough to read them.
        """
        keep_selected = self.selected
        self.clear_graph()
        self.spec, self.placement = spec, placement
        self._ids = [n for n in spec.nodes if n in placement.positions]
        self._index = {n: i for i, n in enumerate(self._ids)}
        self._rects = [self._box(n) for n in self._ids]
        shapes: dict = {}
        ok_pen, leaf_pen = self._border_pen(False, "ok"), self._border_pen(True, "ok")
        for i, nid in enumerate(self._ids):
            ns = spec.nodes[nid]
            rect = self._rects[i]
            wh = (rect.width(), rect.height())
            path = shapes.get(wh)
            if path is None:
                path = shapes[wh] = QtGui.QPainterPath()
                path.addRoundedRect(QtCore.QRectF(0, 0, wh[0], wh[1]), 6, 6)
            item = QtWidgets.QGraphicsPathItem(path)
            item.setPos(rect.topLeft())
            item.setZValue(Z_NODES)
            item.setData(NODE_DATA_INDEX, i)
            item.setData(KIND_KEY, "node")
            if ns.op == COLLAPSED_OP:
                item.setBrush(palette.GROUP_COLLAPSED_BRUSH)
            else:
                item.setBrush((palette.LEAF_FILL if ns.leaf else palette.STATE_FILL)["idle"])
            item.setPen(leaf_pen if ns.leaf else ok_pen)
            self.addItem(item)
            self._node_items[nid] = item
        for name, box in placement.groups.items():
            self._group_items[name] = self._make_group(name, box, name in placement.collapsed)
        self._edge_list = [e for e in placement.edges if e[0] in self._index and e[1] in self._index]
        self._edge_pos = {e: i for i, e in enumerate(self._edge_list)}
        flip = self.direction == "forward"
        polys = [[(x, -y) for x, y in placement.edges[e]] if flip else placement.edges[e]
                 for e in self._edge_list]
        self._segments = EdgeSegments(polys, arrow_at_end=not flip)
        self._edge_rank = np.zeros(len(self._edge_list), dtype=np.int64)
        self._seg_rank = None
        self._redraw_edges()
        self._update_scene_rect()
        if look is not None:
            self.apply_look(look)
        self.select(keep_selected if keep_selected in self._index else None)

    def _yflip(self, y: float) -> float:
        return -y if self.direction == "forward" else y

    def _box(self, nid) -> QtCore.QRectF:
        x, y = self.placement.positions[nid]
        w, h = self.placement.sizes.get(nid, (MIN_W, 2 * LINE_H + 8))
        y = self._yflip(y)
        return QtCore.QRectF(x - w / 2, y - h / 2, w, h)

    def ensure_labels(self, rect: QtCore.QRectF | None = None):
        """Make the labels of the nodes in ``rect`` (scene coordinates; None: all)."""
        if self.spec is None:
            return
        if rect is None:
            indices = range(len(self._ids))
        else:
            indices = [it.data(NODE_DATA_INDEX) for it in
                       self.items(rect, QtCore.Qt.ItemSelectionMode.IntersectsItemBoundingRect)
                       if it.data(KIND_KEY) == "node"]
        made = self._labelled
        for i in indices:
            if i in made:
                continue
            made.add(i)
            self._make_labels(self._node_items[self._ids[i]], self.spec.nodes[self._ids[i]], self._rects[i])

    def _make_labels(self, item, spec: NodeSpec, rect: QtCore.QRectF):
        tfont = _font("title")
        tm = QtGui.QFontMetricsF(tfont)
        room = rect.width() - 2 * PAD_X + 6
        title = spec.title
        if tm.horizontalAdvance(title) > room:
            title = tm.elidedText(title, QtCore.Qt.TextElideMode.ElideMiddle, room)
        t = QtWidgets.QGraphicsSimpleTextItem(title, item)
        t.setFont(tfont)
        t.setBrush(palette.TEXT_COLOR)
        br = t.boundingRect()
        two = bool(spec.subtitle)
        top = (rect.height() - (2 * LINE_H if two else br.height())) / 2
        t.setPos((rect.width() - br.width()) / 2, top)
        t.setVisible(self.labels_visible)
        self._labels.append(t)
        if two:
            sub = QtWidgets.QGraphicsSimpleTextItem(spec.subtitle, item)
            sub.setFont(_font("sub"))
            sub.setBrush(palette.SUBTEXT_COLOR)
            sub.setPos((rect.width() - sub.boundingRect().width()) / 2, top + LINE_H)
            sub.setVisible(self.labels_visible)
            self._labels.append(sub)

    def labelled_count(self) -> int:
        return len(self._labelled)

    def _make_group(self, name: str, box, collapsed: bool):
        x, y, w, h = box
        y0, y1 = self._yflip(y), self._yflip(y + h)
        rect = QtCore.QRectF(x, min(y0, y1), w, abs(y1 - y0))
        path = QtGui.QPainterPath()
        path.addRoundedRect(QtCore.QRectF(0, 0, rect.width(), rect.height()), 10, 10)
        item = QtWidgets.QGraphicsPathItem(path)
        item.setPos(rect.topLeft())
        item.setPen(palette.GROUP_PEN)
        item.setBrush(palette.GROUP_COLLAPSED_BRUSH if collapsed else palette.GROUP_BRUSH)
        item.setZValue(Z_NODES - 1 if collapsed else Z_GROUP)
        item.setData(KIND_KEY, "group")
        item.setData(NODE_DATA_INDEX, name)
        members = sum(1 for n in (self.spec.nodes.values() if self.spec else ())
                      if n.group == name or (n.group or "").startswith(name + "."))
        label = f"▸ {name}  ({members} nodes)" if collapsed else f"▾ {name}"
        t = QtWidgets.QGraphicsSimpleTextItem(label, item)
        t.setFont(_font("group"))
        t.setBrush(palette.SUBTEXT_COLOR)
        t.setPos(6, 2 if not collapsed else (rect.height() - t.boundingRect().height()) / 2)
        self._labels.append(t)
        item.setToolTip(f"module {name}: double-click to {'expand' if collapsed else 'collapse'}")
        self.addItem(item)
        return item

    def _redraw_edges(self):
        """Rebuild the edge paths whose segments changed rank (all of them on the first call)."""
        seg_rank = self._segments.segment_ranks(self._edge_rank)
        old_rank = self._seg_rank
        if old_rank is not None and np.array_equal(seg_rank, old_rank):
            return
        self._seg_rank = seg_rank
        if old_rank is None:
            changed = self._segments.groups(seg_rank)
            for key in [k for k in self._edge_items if k not in changed]:
                self.removeItem(self._edge_items.pop(key))
        else:
            changed = self._segments.regroup(old_rank, seg_rank)
        for key, idx in changed.items():
            item = self._edge_items.get(key)
            if len(idx) == 0:
                if item is not None:
                    self.removeItem(self._edge_items.pop(key))
                continue
            if item is None:
                rank = key[0]
                item = QtWidgets.QGraphicsPathItem()
                item.setPen(self._edge_pen(rank))
                item.setZValue(Z_EDGES + rank / 100.0)
                item.setCacheMode(self._edge_cache_mode)
                self.addItem(item)
                self._edge_items[key] = item
            item.setPath(self._segments.path(idx))

    def _edge_pen(self, rank: int) -> QtGui.QPen:
        pen = palette.edge_pen(palette.rank_bucket(rank))
        if self.thin_edges:
            pen.setWidth(0)     # hairline: the fast raster path for a zoomed-out overview
        return pen

    def set_thin_edges(self, thin: bool):
        """Level of detail: hairline edges (colour only, no width) when zoomed far out."""
        if thin == self.thin_edges:
            return
        self.thin_edges = thin
        for (rank, _tile), item in self._edge_items.items():
            item.setPen(self._edge_pen(rank))

    def set_edge_cache(self, scale: float):
        """Level of detail: in a zoomed-out view with thin edges, keep each edge path as a
        pixmap in device pixels (Qt's DeviceCoordinateCache), so a repaint after a step
        strokes only the few paths that changed and copies the rest. Hairlines drawn
        without antialiasing come out pixel for pixel the same. Off when zoomed in, or
        when the pixmaps would take more than EDGE_CACHE_MAX_BYTES of Qt's pixmap cache.
        """
        nbytes = 0.0
        if self.thin_edges:
            for it in self._edge_items.values():
                r = it.boundingRect()
                nbytes += 4 * (r.width() * scale + 3) * (r.height() * scale + 3)
        on = self.thin_edges and nbytes <= EDGE_CACHE_MAX_BYTES
        mode = (QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache if on
                else QtWidgets.QGraphicsItem.CacheMode.NoCache)
        if mode == self._edge_cache_mode:
            return
        self._edge_cache_mode = mode
        for it in self._edge_items.values():
            it.setCacheMode(mode)

    def edge_cache_on(self) -> bool:
        return self._edge_cache_mode != QtWidgets.QGraphicsItem.CacheMode.NoCache

    def edge_paths(self, bucket) -> list:
        """The painter paths that draw edges of ``bucket`` (one per scene tile)."""
        rank = palette.bucket_rank_of(bucket)
        return [it.path() for (r, _t), it in self._edge_items.items() if r == rank]

    def _update_scene_rect(self):
        rect = QtCore.QRectF()
        for it in self._node_items.values():
            rect = rect.united(it.sceneBoundingRect())
        for it in self._group_items.values():
            rect = rect.united(it.sceneBoundingRect())
        self.setSceneRect(rect.adjusted(-40, -40, 40, 40))

    # ------------------------------------------------------------------ looks
    def _border_pen(self, leaf: bool, health: str) -> QtGui.QPen:
        """Cosmetic (screen-pixel) pens: a node stays visible when zoomed far out.

        With ``thin_borders`` (a zoomed-out overview, drawn without antialiasing) a thin
        border is exactly one pixel: Qt strokes a 1-pixel cosmetic pen on its fast
        path, and a fractional width cannot show without antialiasing anyway. The
        thick health borders keep their widths. Pens are made once per look.
        """
        key = (leaf, health, self.thin_borders)
        pen = self._pens.get(key)
        if pen is not None:
            return pen
        color, width = palette.HEALTH_BORDER.get(health, palette.HEALTH_BORDER["ok"])
        if health == "ok" and leaf:
            color = palette.LEAF_BORDER
        if self.thin_borders and width < 2.0:
            width = 1.0
        pen = QtGui.QPen(color, width)
        pen.setCosmetic(True)
        if health == "vanishing":
            pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        self._pens[key] = pen
        return pen

    def set_thin_borders(self, thin: bool):
        """Level of detail: one-pixel node borders in a zoomed-out, unantialiased overview."""
        if thin == self.thin_borders:
            return
        self.thin_borders = thin
        spec = self.spec
        if spec is None:
            return
        for nid, item in self._node_items.items():
            health = self._applied.get(nid, ("idle", "ok"))[1]
            item.setPen(self._border_pen(spec.nodes[nid].leaf, health))

    def apply_look(self, look: GraphLook):
        """Bring items in line with ``look``, touching only nodes/edges that changed."""
        spec = self.spec
        if spec is None:
            return
        states, health = look.states, look.health
        for nid, item in self._node_items.items():
            key = (states.get(nid, "idle"), health.get(nid, "ok"))
            if self._applied.get(nid) == key:
                continue
            self._applied[nid] = key
            ns = spec.nodes[nid]
            state, h = key
            fill = palette.LEAF_FILL if ns.leaf else palette.STATE_FILL
            color = palette.NAN_FILL if h in ("nan", "inf") else fill.get(state, fill["idle"])
            item.setBrush(color)
            item.setPen(self._border_pen(ns.leaf, h))
        rank = self._edge_ranks(look.edge_norms)
        if not np.array_equal(rank, self._edge_rank):
            self._edge_rank = rank
            self._redraw_edges()
        self._set_breakpoints(look.breakpoints)
        self.set_current(look.current)

    def _edge_ranks(self, norms: dict) -> np.ndarray:
        """Each edge's bucket rank under ``norms``; one ``bucket_rank`` per distinct norm
        (a pass repeats the same norms frame after frame, so most are cache hits)."""
        cache = self._rank_cache
        if len(cache) > 100_000:
            cache.clear()
        out = []
        append = out.append
        for v in map(norms.get, self._edge_list):
            r = cache.get(v)
            if r is None:
                r = cache[v] = palette.bucket_rank(v)
            append(r)
        return np.array(out, dtype=np.int64)

    def _set_breakpoints(self, bps: dict):
        for nid in [n for n in self._bp_items if n not in bps]:
            self.removeItem(self._bp_items.pop(nid))
        for nid, enabled in bps.items():
            item = self._node_items.get(nid)
            if item is None:
                continue
            dot = self._bp_items.get(nid)
            if dot is None:
                dot = QtWidgets.QGraphicsEllipseItem(-5, -5, 10, 10)
                dot.setPen(QtGui.QPen(QtGui.QColor("#ffffff"), 1.5))
                dot.setZValue(Z_MARKS + 1)
                dot.setPos(item.pos() + QtCore.QPointF(2, 2))
                dot.setToolTip("breakpoint")
                self.addItem(dot)
                self._bp_items[nid] = dot
            dot.setBrush(palette.BREAKPOINT_BRUSH if enabled else palette.BREAKPOINT_DISABLED_BRUSH)

    def _place_ring(self, ring, nid, margin: float) -> bool:
        item = self._node_items.get(nid)
        if item is None:
            ring.setVisible(False)
            return False
        r = item.sceneBoundingRect().adjusted(-margin, -margin, margin, margin)
        path = QtGui.QPainterPath()
        path.addRoundedRect(r, 8, 8)
        ring.setPath(path)
        ring.setVisible(True)
        return True

    def set_current(self, nid):
        """Mark the node the backward pass is at (or hide the mark with None)."""
        if nid == self.current and self._current_ring.isVisible() == (nid in self._node_items):
            return
        self.current = nid
        self._place_ring(self._current_ring, nid, 4.0)

    def select(self, nid):
        self.selected = nid
        self._place_ring(self._selected_ring, nid, 7.0)

    def set_direction(self, direction: str, look: GraphLook | None = None):
        """'backward' (loss on top, gradients flow down) or 'forward' (inputs on top)."""
        if direction not in ("backward", "forward"):
            raise ValueError(f"direction must be 'backward' or 'forward', not {direction!r}")
        if direction == self.direction:
            return
        self.direction = direction
        if self.spec is not None:
            self.set_graph(self.spec, self.placement, look)

    def set_labels_visible(self, visible: bool):
        """Level of detail: labels cost most of a zoomed-out paint, so hide them there."""
        self.labels_visible = visible
        for t in self._labels:
            t.setVisible(visible)

    # ------------------------------------------------------------------ queries
    def node_ids(self) -> list:
        return list(self._ids)

    def has_node(self, nid) -> bool:
        return nid in self._index

    def node_item(self, nid):
        return self._node_items.get(nid)

    def edge_bucket_of(self, edge):
        """The colour bucket edge ``edge`` is drawn in ('none', 0..N-1, 'nan'), or None."""
        i = self._edge_pos.get(edge)
        return None if i is None else palette.rank_bucket(int(self._edge_rank[i]))

    def hit(self, scene_pos: QtCore.QPointF, transform: QtGui.QTransform):
        """('node', id), ('group', name) or None for the item under ``scene_pos``."""
        for it in self.items(scene_pos, QtCore.Qt.ItemSelectionMode.IntersectsItemShape,
                             QtCore.Qt.SortOrder.DescendingOrder, transform):
            while it.parentItem() is not None:
                it = it.parentItem()
            kind = it.data(KIND_KEY)
            if kind == "node":
                return "node", self._ids[it.data(NODE_DATA_INDEX)]
            if kind == "group":
                return "group", it.data(NODE_DATA_INDEX)
        return None

    def node_rect(self, nid) -> QtCore.QRectF | None:
        item = self._node_items.get(nid)
        return item.sceneBoundingRect() if item is not None else None
