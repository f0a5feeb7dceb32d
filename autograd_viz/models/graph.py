"""The graph model: a networkx DiGraph of the current backward graph.

Nodes are keyed by stable keys (:mod:`autograd_viz.keys`); an edge ``u -> v`` means
``v`` is in ``u.next_functions`` (gradients flow from ``u`` to ``v``, the direction the
backward pass runs). Node attributes (all plain Python values):

========== ==================================================================
key        the node key (same as the networkx node)
op         grad_fn name: ``'AddmmBackward0'``, ``'AccumulateGrad'``
kind       ``'op'``, ``'param'`` (a parameter's AccumulateGrad) or ``'leaf'``
module     module path that built it (``'fc1'``, ``'features.0'``; ``''`` = none/top)
group      the group the layout keeps together (= module path, ``''`` = none)
label      short text for drawing (op name, or the parameter name)
param      parameter name for a parameter leaf (``'conv1.weight'``), else None
shapes     list of output shapes of the forward op (tuples)
dtype      dtype name of the first output (``'torch.float32'``) or ''
device     device of the first output (``'cpu'``, ``'cuda:0'``) or ''
saved      list of (name, shape, nbytes) of the saved tensors (as of the pass that
           installed the structure)
source     (file, line, function) of the user's code that created it, or None
seq        rank of the node's sequence number among the pass's ops (creation
           order, 0 = oldest; -1 for leaves)
state      ``'idle'`` (no pass running), ``'pending'``, ``'ready'``, ``'running'``, ``'done'``
order      position in the last pass's execution order (None if it did not run)
grad_in    list (per forward output) of Stats or None: what arrived
grad_out   list (per next_functions edge) of Stats or None: what it sent
health     worst health flag of the last pass: 'nonfinite', 'exploding', 'vanishing' or None
========== ==================================================================

Edge attributes: ``slots`` (list of positions in the source's ``next_functions``;
several when one input is used twice, as in ``x * x``), ``input_nr``.

Threading: the watcher mutates the graph in the training thread while holding
:attr:`lock`; read from another thread under the lock or through :meth:`snapshot`.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import networkx as nx

from ..signals import Signal

__all__ = ["GraphModel", "StructureChange", "NODE_STATES"]

NODE_STATES = ("idle", "pending", "ready", "running", "done")

# Per-pass attributes of every node when a pass begins.
_PENDING = {"state": "pending", "order": None, "grad_in": None, "grad_out": None, "health": None}

# Attributes that describe structure (the rest change from pass to pass).
_STATIC = ("key", "op", "kind", "module", "group", "label", "param", "source", "seq")


@dataclass(frozen=True, slots=True)
class StructureChange:
    """The graph's structure changed (or appeared: ``old_id`` is None).
    ``added``/``removed``: node keys that appeared/disappeared."""

    old_id: str | None
    new_id: str
    version: int
    iteration: int
    added: tuple = ()
    removed: tuple = ()
    edges_changed: bool = False


def structure_id(nodes: list[dict], edges: list[tuple]) -> str:
    """A short hash of the keys, ops and edges: equal ids = same structure."""
    h = hashlib.blake2b(digest_size=8)
    for n in sorted(nodes, key=lambda d: d["key"]):
        h.update(f"{n['key']}|{n['op']}\n".encode())
    for u, v, attrs in sorted(edges, key=lambda e: (e[0], e[1])):
        h.update(f"{u}>{v}:{attrs.get('slots')}\n".encode())
    return h.hexdigest()


class GraphModel:
    """The current backward graph and the state of the pass running through it.

    Signals:
      ``structure_changed(change: StructureChange)`` — a new structure was installed;
      ``node_changed(key)`` — a node's state/statistics changed during a pass;
      ``pass_started(pass_index)`` / ``pass_finished(pass_index)``;
      ``collapsed_changed(group, collapsed: bool)``.
    """

    def __init__(self):
        self.lock = threading.RLock()
        self.graph: nx.DiGraph = nx.DiGraph()
        self.structure_id: str | None = None
        self.structure_version = 0
        self.changes: list[StructureChange] = []   # every structure change seen
        self.order: list[str] = []                  # execution order of the last/current pass
        self.pass_index = -1
        self.collapsed: set[str] = set()
        self._deps: dict[str, int] = {}
        self.structure_changed = Signal("graph.structure_changed")
        self.node_changed = Signal("graph.node_changed")
        self.pass_started = Signal("graph.pass_started")
        self.pass_finished = Signal("graph.pass_finished")
        self.collapsed_changed = Signal("graph.collapsed_changed")

    # -- structure -------------------------------------------------------------------

    def set_structure(self, nodes: list[dict], edges: list[tuple], iteration: int = 0,
                      sid: str | None = None) -> StructureChange | None:
        """Install the structure ``nodes`` (attribute dicts with at least key/op) and
        ``edges`` ((u, v, attrs)). Same structure as now: only the per-pass attributes
        (shapes, saved, dtype, device) are refreshed and None is returned; otherwise the
        graph is rebuilt, ``structure_changed`` is emitted and the change returned."""
        sid = sid or structure_id(nodes, edges)
        with self.lock:
            if sid == self.structure_id:
                g = self.graph
                for n in nodes:
                    attrs = g.nodes[n["key"]]
                    for k in ("shapes", "dtype", "device", "saved", "source"):
                        if k in n:
                            attrs[k] = n[k]
                return None
            old_keys = set(self.graph.nodes)
            old_edges = set(self.graph.edges)
            g = nx.DiGraph()
            for n in nodes:
                attrs = _defaults(n)
                g.add_node(n["key"], **attrs)
            for u, v, attrs in edges:
                g.add_edge(u, v, **attrs)
            new_keys = set(g.nodes)
            change = StructureChange(
                self.structure_id, sid, self.structure_version + 1, iteration,
                tuple(sorted(new_keys - old_keys)), tuple(sorted(old_keys - new_keys)),
                set(g.edges) != old_edges)
            self.graph = g
            self.structure_id = sid
            self.structure_version += 1
            self.changes.append(change)
            self.order = []
        self.structure_changed.emit(change)
        return change

    # -- a backward pass -------------------------------------------------------------

    def begin_pass(self, pass_index: int, roots: list[str] | None = None) -> None:
        """Every node pending, the roots (default: nodes with no incoming edge) ready."""
        with self.lock:
            g = self.graph
            nodes = g._node                     # networkx's node-attribute dict
            self.pass_index = pass_index
            self.order = []
            pred = g._pred
            self._deps = {k: len(pred[k]) for k in nodes}
            for attrs in nodes.values():
                attrs.update(_PENDING)
            for k in (roots if roots is not None else [k for k, d in self._deps.items() if d == 0]):
                a = nodes.get(k)
                if a is not None:
                    a["state"] = "ready"
        self.pass_started.emit(pass_index)

    def node_started(self, key: str, grad_in: list | None = None) -> None:
        """Node ``key`` is running on gradients whose Stats are ``grad_in``."""
        with self.lock:
            attrs = self.graph.nodes.get(key)
            if attrs is None:
                return
            attrs["state"] = "running"
            attrs["order"] = len(self.order)
            attrs["grad_in"] = grad_in
            self.order.append(key)
        self.node_changed.emit(key)

    def node_finished(self, key: str, grad_out: list | None = None) -> None:
        """Node ``key`` ran and sent gradients with Stats ``grad_out``; children whose
        every parent is done become ready."""
        g = self.graph
        with self.lock:
            attrs = g.nodes.get(key)
            if attrs is None:
                return
            attrs["state"] = "done"
            attrs["grad_out"] = grad_out
            ready = []
            for child in g.successors(key):
                d = self._deps.get(child, 0) - 1
                self._deps[child] = d
                if d <= 0 and g.nodes[child]["state"] == "pending":
                    g.nodes[child]["state"] = "ready"
                    ready.append(child)
        self.node_changed.emit(key)
        for child in ready:
            self.node_changed.emit(child)

    def apply_pass(self, entries) -> None:
        """Bulk form of :meth:`node_started` + :meth:`node_finished` for every node of a
        pass that ran unobserved: ``entries`` is a list of ``(key, grad_in, grad_out,
        health)`` in execution order. No ``node_changed`` signals (``end_pass`` emits
        ``pass_finished`` next)."""
        with self.lock:
            nodes = self.graph._node            # networkx's node-attribute dict
            order = self.order
            for key, gin, gout, health in entries:
                a = nodes.get(key)
                if a is None:
                    continue
                a["state"] = "done"
                a["order"] = len(order)
                a["grad_in"] = gin
                a["grad_out"] = gout
                a["health"] = health
                order.append(key)

    def set_health(self, key: str, flags) -> None:
        """Store the worst of ``flags`` (a set of health flags) as the node's 'health'."""
        worst = worst_flag(flags)
        with self.lock:
            attrs = self.graph.nodes.get(key)
            if attrs is not None:
                attrs["health"] = worst

    def end_pass(self) -> None:
        """The pass is over: nodes keep 'done'; nodes that never ran go back to idle."""
        with self.lock:
            for attrs in self.graph._node.values():
                if attrs["state"] != "done":
                    attrs["state"] = "idle"
        self.pass_finished.emit(self.pass_index)

    # -- reading ---------------------------------------------------------------------

    def node(self, key: str) -> dict:
        """The attribute dict of node ``key`` (live; copy it to keep it)."""
        return self.graph.nodes[key]

    def keys(self) -> list[str]:
        return list(self.graph.nodes)

    def snapshot(self) -> nx.DiGraph:
        """A copy of the graph (attribute dicts copied one level), safe to read while
        the training thread goes on."""
        with self.lock:
            return self.graph.copy()

    def static_view(self) -> tuple[list[dict], list[tuple]]:
        """(nodes, edges) with only the structural attributes: what a session stores."""
        with self.lock:
            nodes = [{k: a.get(k) for k in _STATIC + ("shapes", "dtype", "device", "saved")}
                     for a in self.graph.nodes.values()]
            edges = [(u, v, dict(d)) for u, v, d in self.graph.edges(data=True)]
        return nodes, edges

    def groups(self) -> dict[str, list[str]]:
        """Module path -> node keys built in it (``''``: outside any module)."""
        out: dict[str, list[str]] = {}
        with self.lock:
            for k, a in self.graph.nodes.items():
                out.setdefault(a.get("group") or "", []).append(k)
        return out

    def group_tree(self) -> dict[str, list[str]]:
        """Module path -> direct child module paths, over every group and its
        ancestors (``'features'`` -> ``['features.0', 'features.1']``); root is ``''``."""
        paths = set()
        for gname in self.groups():
            parts = gname.split(".") if gname else []
            for i in range(len(parts) + 1):
                paths.add(".".join(parts[:i]))
        tree: dict[str, list[str]] = {p: [] for p in paths}
        for p in sorted(paths):
            if p:
                tree[p.rpartition(".")[0]].append(p)
        return tree

    # -- grouping state --------------------------------------------------------------

    def set_collapsed(self, group: str, collapsed: bool = True) -> None:
        """Collapse (or expand) module ``group`` into one box; the layout reads
        :attr:`collapsed` (``layout(..., collapsed=model.collapsed)``)."""
        if collapsed == (group in self.collapsed):
            return
        if collapsed:
            self.collapsed.add(group)
        else:
            self.collapsed.discard(group)
        self.collapsed_changed.emit(group, collapsed)

    def toggle_collapsed(self, group: str) -> bool:
        """Flip ``group``; returns the new collapsed state."""
        self.set_collapsed(group, group not in self.collapsed)
        return group in self.collapsed

    def clear(self) -> None:
        with self.lock:
            self.graph = nx.DiGraph()
            self.structure_id = None
            self.order = []


def worst_flag(flags) -> str | None:
    """'nonfinite' > 'exploding' > 'vanishing' > None."""
    if not flags:
        return None
    for f in ("nonfinite", "exploding", "vanishing"):
        if f in flags:
            return f
    return None


def _defaults(n: dict) -> dict:
    attrs = {
        "key": n["key"], "op": n["op"], "kind": n.get("kind", "op"),
        "module": n.get("module", ""), "group": n.get("group", n.get("module", "")),
        "label": n.get("label", n["op"]), "param": n.get("param"),
        "shapes": n.get("shapes", []), "dtype": n.get("dtype", ""), "device": n.get("device", ""),
        "saved": n.get("saved", []), "source": n.get("source"), "seq": n.get("seq", -1),
        "state": "idle", "order": None, "grad_in": None, "grad_out": None, "health": None,
    }
    return attrs
