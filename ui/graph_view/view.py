"""The graph view: pan, zoom, fit, search, hover tooltips, click and right-click.

Input only: it turns mouse and wheel events into signals (``nodeClicked``,
``breakpointToggleRequested``, ``groupToggleRequested``) and zoom levels into the
scene's level of detail. Tooltips are computed lazily by ``tooltip_provider(node_id)``
when the mouse rests on a node, so 2,000 nodes never carry 2,000 tooltip strings.
"""

from __future__ import annotations

from typing import Callable, Hashable

from PySide6 import QtCore, QtGui, QtWidgets

from .scene import GraphScene
from .spec import COLLAPSED_OP


LABEL_MIN_SCALE = 0.45      # below this zoom, labels are unreadable: hide them
ANTIALIAS_MIN_SCALE = 0.2   # below this zoom, skip antialiasing (thousands of tiny boxes)
HAIRLINE_MAX_SCALE = 0.06   # below this zoom, edges are 1-pixel lines (colour only)
MIN_SCALE, MAX_SCALE = 0.01, 6.0
READABLE_SCALE = 0.85       # zoom at which node labels read well
READABLE_MAX_NODES = 150


class GraphView(QtWidgets.QGraphicsView):
    nodeClicked = QtCore.Signal(object)
    breakpointToggleRequested = QtCore.Signal(object)
    groupToggleRequested = QtCore.Signal(str)
    zoomChanged = QtCore.Signal(float)

    def __init__(self, parent=None):
        self._scene = GraphScene()
        super().__init__(self._scene, parent)
        self._scene.setParent(self)
        self.setObjectName("graphView")
        self.setRenderHints(QtGui.QPainter.RenderHint.Antialiasing
                            | QtGui.QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QtWidgets.QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QtWidgets.QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QtWidgets.QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QtWidgets.QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setCacheMode(QtWidgets.QGraphicsView.CacheModeFlag.CacheBackground)
        self.tooltip_provider: Callable[[Hashable], str] | None = None
        self._search_hits: list = []
        self._search_text = ""
        self._search_pos = -1
        self._press_pos = None

    @property
    def graph_scene(self) -> GraphScene:
        return self._scene

    # ------------------------------------------------------------------ zoom
    def scale_factor(self) -> float:
        return self.transform().m11()

    def _after_zoom(self):
        s = self.scale_factor()
        want = s >= LABEL_MIN_SCALE
        if want != self._scene.labels_visible:
            self._scene.set_labels_visible(want)
        self._update_labels()
        self.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, s >= ANTIALIAS_MIN_SCALE)
        self._scene.set_thin_borders(s < ANTIALIAS_MIN_SCALE)
        self._scene.set_thin_edges(s < HAIRLINE_MAX_SCALE)
        self._scene.set_edge_cache(s)
        self.zoomChanged.emit(s)

    def _update_labels(self):
        """Make labels for what is on screen (only when zoomed in enough to read them)."""
        if self.scale_factor() >= LABEL_MIN_SCALE and self._scene.spec is not None:
            rect = self.mapToScene(self.viewport().rect()).boundingRect()
            self._scene.ensure_labels(rect.adjusted(-200, -100, 200, 100))

    def scrollContentsBy(self, dx: int, dy: int):
        super().scrollContentsBy(dx, dy)
        self._update_labels()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._update_labels()

    def zoom_by(self, factor: float):
        s = self.scale_factor()
        factor = max(MIN_SCALE / s, min(MAX_SCALE / s, factor))
        self.scale(factor, factor)
        self._after_zoom()

    def set_zoom(self, scale: float):
        self.zoom_by(scale / self.scale_factor())

    def fit(self, readable: bool = False):
        """Fit the whole graph into the window (never zooming in past 1:1).

        ``readable``: for a small graph (up to READABLE_MAX_NODES) that would need a zoom
        too small to read its labels, zoom to READABLE_SCALE instead and show its top (the
        loss, where a backward pass starts); the view follows the current node from there.
        """
        rect = self._scene.sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, QtCore.Qt.AspectRatioMode.KeepAspectRatio)
        if self.scale_factor() > 1.0:
            self.set_zoom(1.0)
            self.centerOn(rect.center())
        elif (readable and self.scale_factor() < READABLE_SCALE
              and len(self._scene.node_ids()) <= READABLE_MAX_NODES):
            self.set_zoom(READABLE_SCALE)
            half = self.viewport().height() / (2 * READABLE_SCALE)
            top = rect.bottom() - half if self._scene.direction == "forward" else rect.top() + half
            self.centerOn(rect.center().x(), top)
        self._after_zoom()

    def wheelEvent(self, event: QtGui.QWheelEvent):
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta)
        event.accept()

    def center_on_node(self, nid, zoom_in: bool = False):
        rect = self._scene.node_rect(nid)
        if rect is None:
            return
        if zoom_in and self.scale_factor() < 0.8:
            self.set_zoom(1.0)
        self.centerOn(rect.center())

    def ensure_node_visible(self, nid):
        rect = self._scene.node_rect(nid)
        if rect is not None:
            self.ensureVisible(rect, 40, 40)

    # ------------------------------------------------------------------ search
    def find(self, text: str):
        """Select the next node whose title, op or subtitle contains ``text``.

        Repeating the same text cycles through the matches. Returns the node id or None.
        """
        text = text.strip().lower()
        spec = self._scene.spec
        if not text or spec is None:
            return None
        if text != self._search_text:
            self._search_text = text
            self._search_hits = [n for n in self._scene.node_ids()
                                 if text in spec.nodes[n].title.lower()
                                 or text in spec.nodes[n].op.lower()
                                 or text in spec.nodes[n].subtitle.lower()]
            self._search_pos = -1
        if not self._search_hits:
            return None
        self._search_pos = (self._search_pos + 1) % len(self._search_hits)
        nid = self._search_hits[self._search_pos]
        self._scene.select(nid)
        self.center_on_node(nid, zoom_in=True)
        self.nodeClicked.emit(nid)
        return nid

    def reset_search(self):
        self._search_text, self._search_hits, self._search_pos = "", [], -1

    # ------------------------------------------------------------------ mouse
    def _hit(self, pos: QtCore.QPoint):
        return self._scene.hit(self.mapToScene(pos), self.transform())

    def mousePressEvent(self, event: QtGui.QMouseEvent):
        self._press_pos = event.position().toPoint()
        if event.button() == QtCore.Qt.MouseButton.RightButton:
            hit = self._hit(self._press_pos)
            if hit and hit[0] == "node":
                self.breakpointToggleRequested.emit(hit[1])
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent):
        super().mouseReleaseEvent(event)
        if event.button() != QtCore.Qt.MouseButton.LeftButton or self._press_pos is None:
            return
        moved = (event.position().toPoint() - self._press_pos).manhattanLength()
        self._press_pos = None
        if moved > 4:  # that was a pan, not a click
            return
        hit = self._hit(event.position().toPoint())
        if hit and hit[0] == "node":
            self._scene.select(hit[1])
            self.nodeClicked.emit(hit[1])

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent):
        hit = self._hit(event.position().toPoint())
        if hit and hit[0] == "group":
            self.groupToggleRequested.emit(hit[1])
            event.accept()
            return
        if hit and hit[0] == "node":
            spec = self._scene.spec.nodes.get(hit[1])
            if spec is not None and spec.op == COLLAPSED_OP:
                self.groupToggleRequested.emit(spec.title)   # expand a collapsed module
                event.accept()
                return
            if spec is not None and spec.group:
                self.groupToggleRequested.emit(spec.group)   # collapse the node's module
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def viewportEvent(self, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ToolTip:
            hit = self._hit(event.pos())
            if hit and hit[0] == "node" and self.tooltip_provider is not None:
                QtWidgets.QToolTip.showText(event.globalPos(), self.tooltip_provider(hit[1]),
                                            self.viewport())
                return True
            if not hit:
                QtWidgets.QToolTip.hideText()
                return True
        return super().viewportEvent(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent):
        key = event.key()
        if key in (QtCore.Qt.Key.Key_Plus, QtCore.Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif key == QtCore.Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        else:
            super().keyPressEvent(event)
            return
        event.accept()
