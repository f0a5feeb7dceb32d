"""Ops that are linear maps of their input (resampling, pixel shuffles, unfold/fold, average
and adaptive pools, channel shuffles, gathers at fixed indices): one helper gives each a
backward node and exact higher derivatives.

An op supplies its array map ``fwd`` and the adjoint ``adj`` (the transposed map: what the
gradient goes through). Its node's backward applies ``adj`` to the incoming gradient; when a
graph is being built (``create_graph=True``) it does so through a node of its own, named as
PyTorch names it (``UpsampleBilinear2DBackwardBackward0``, or the adjoint op's own node such
as ``Col2ImBackward0`` for unfold), whose backward applies ``fwd``
again -- so double backward is exact at the cost of nothing when unused.
"""

from __future__ import annotations

from ..autograd.grad_mode import _state
from ..ops._core import Node, link, make, needs_grad

__all__ = ["linear_map", "node_class"]

_classes: dict = {}


class _LinearMapNode(Node):
    """Backward of a linear op: ``adj`` on the gradient (differentiably when a graph is
    being built)."""
    __slots__ = ("fwd", "adj", "info", "twin")

    def backward(self, g):
        if not _state.enabled:
            return make(self.adj(g._data))
        return linear_map(g, self.adj, self.fwd, self.twin or self._twin_name(), self.info,
                          twin=type(self).__name__)

    def __getattr__(self, name):
        """``_saved_<key>`` reads ``info[key]`` (PyTorch's ``grad_fn._saved_output_size``)."""
        if name.startswith("_saved_"):
            try:
                info = object.__getattribute__(self, "info")
            except AttributeError:
                info = None
            if isinstance(info, dict) and name[7:] in info:
                return info[name[7:]]
        return Node.__getattr__(self, name)

    @classmethod
    def _twin_name(cls):
        name = cls.__name__
        if "BackwardBackward" in name:
            return name.replace("BackwardBackward", "Backward")
        return name.replace("Backward", "BackwardBackward", 1)


def node_class(name):
    """The node class named ``name`` (one class per name, made on first use)."""
    cls = _classes.get(name)
    if cls is None:
        cls = _classes[name] = type(name, (_LinearMapNode,), {"__slots__": ()})
    return cls


def linear_map(x, fwd, adj, name, info=None, twin=None):
    """``fwd(x)`` as a tensor with a backward node of class ``name`` that applies ``adj``;
    ``twin`` names the node of the gradient itself (default ``<Op>BackwardBackward0``; where
    PyTorch's backward is another op, its name: pixel_shuffle's is ``PixelUnshuffleBackward0``).
    ``info`` (a dict of the op's arguments) is kept on the node; ``node._saved_<key>`` reads it
    as PyTorch's saved attributes read."""
    r = make(fwd(x._data))
    if needs_grad(x):
        n = node_class(name)()
        n.fwd, n.adj, n.info, n.twin = fwd, adj, info, twin
        link(n, (x,), r)
    return r
