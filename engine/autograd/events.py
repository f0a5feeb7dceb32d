"""Graph and gradient events: how the engine tells a debugger what it is doing.

The engine keeps one module-level list of listeners. Every place that could emit an
event first checks ``if _listeners:`` (one truthiness test), so a run nobody watches
pays nothing for this module. Events carry ids, names, shapes, dtypes and the engine
objects themselves; a listener that wants numbers asks the tensors for them, so no
device-to-host copy happens unless someone looks.

Listeners are called synchronously, in the thread that runs the engine, in the order
they were added. A listener that blocks (a debugger waiting on a ``threading.Condition``)
pauses the forward pass, the backward pass or the optimizer step right there: that is
how stepping works. An exception raised by a listener propagates into the engine call
that emitted the event (the debugger's ``stop`` uses this to unwind a training thread).

Event kinds (each a small class with ``__slots__``; ``kind`` is a class attribute):

``NodeCreated``        forward: an op built a backward node.
``BackwardStarted``    ``backward()``/``autograd.grad()`` begins: roots and their seeds.
``NodeStarted``        backward: a node is about to run, with its summed incoming grads.
``NodeFinished``       backward: a node ran, with the gradients it sends to its inputs.
``GradAccumulated``    backward: a leaf's ``.grad`` was written (after accumulation).
``BackwardFinished``   the backward call returns (also after an error, ``error`` set).
``OptimizerStep``      ``optimizer.step()``: ``phase`` 'begin' before any parameter
                       changes and 'end' after all have changed.
"""

from __future__ import annotations

__all__ = [
    "add_listener", "remove_listener", "listeners", "ListenerHandle",
    "NodeCreated", "BackwardStarted", "NodeStarted", "NodeFinished",
    "GradAccumulated", "BackwardFinished", "OptimizerStep",
]

# The one list every hot path checks. Mutated in place only (never rebound), so
# modules that did ``from .events import _listeners`` keep seeing the live list.
_listeners: list = []


class ListenerHandle:
    """Returned by :func:`add_listener`; ``remove()`` (or leaving a ``with``) detaches."""

    __slots__ = ("_fn",)

    def __init__(self, fn):
        self._fn = fn

    def remove(self):
        remove_listener(self._fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def add_listener(fn) -> ListenerHandle:
    """Attach ``fn(event)``; it sees every event from now on. Returns a handle."""
    if not callable(fn):
        raise TypeError(f"add_listener expects a callable, got {type(fn).__name__}")
    _listeners.append(fn)
    return ListenerHandle(fn)


def remove_listener(fn) -> None:
    """Detach ``fn``; detaching one that is not attached is a no-op."""
    try:
        _listeners.remove(fn)
    except ValueError:
        pass


def listeners() -> tuple:
    """The attached listeners, oldest first."""
    return tuple(_listeners)


def emit(event) -> None:
    """Deliver ``event`` to every listener. Callers check ``if _listeners:`` first.

    The usual case, one listener (the debugger), skips copying the list; several are
    called from a snapshot so a listener may remove itself while being called."""
    if len(_listeners) == 1:
        try:
            fn = _listeners[0]
        except IndexError:      # removed by another thread since the caller's check
            return
        fn(event)
        return
    for fn in tuple(_listeners):
        fn(event)


class _Event:
    __slots__ = ()
    kind = "event"

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"{type(self).__name__}({fields})"


class NodeCreated(_Event):
    """A forward op created ``node`` (its ``grad_fn``) for ``outputs``.

    ``inputs``: the op's tensor inputs (``None`` for non-tensor arguments is never
    included). ``node.name()`` is the PyTorch class name (``AddmmBackward0``);
    ``node.next_functions`` gives the edges. Shapes/dtypes/devices of inputs and
    outputs are read from the tensors (cheap attributes, no copies).
    """

    __slots__ = ("node", "inputs", "outputs")
    kind = "node_created"

    def __init__(self, node, inputs, outputs):
        self.node = node
        self.inputs = inputs
        self.outputs = outputs


class BackwardStarted(_Event):
    """``roots``: tuple of (node, seed-gradient tensor); ``tensors``: the root tensors;
    ``inputs``: tensors gradients were asked for (``autograd.grad``/``inputs=``) or
    ``None``; ``create_graph`` and ``retain_graph`` as passed; ``order``: the number
    of nodes that will run (dependency-counted from the roots)."""

    __slots__ = ("roots", "tensors", "inputs", "create_graph", "retain_graph", "order")
    kind = "backward_started"

    def __init__(self, roots, tensors, inputs, create_graph, retain_graph, order):
        self.roots = roots
        self.tensors = tensors
        self.inputs = inputs
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.order = order


class NodeStarted(_Event):
    """``node`` is about to run on ``grads_in`` (a tuple, one tensor per output of the
    forward op, ``None`` where no gradient arrived)."""

    __slots__ = ("node", "grads_in")
    kind = "node_started"

    def __init__(self, node, grads_in):
        self.node = node
        self.grads_in = grads_in


class NodeFinished(_Event):
    """``node`` ran; ``grads_out[i]`` flows to ``node.next_functions[i]`` (already
    reduced to that input's shape and dtype; ``None`` where nothing flows)."""

    __slots__ = ("node", "grads_in", "grads_out")
    kind = "node_finished"

    def __init__(self, node, grads_in, grads_out):
        self.node = node
        self.grads_in = grads_in
        self.grads_out = grads_out


class GradAccumulated(_Event):
    """``node`` (an ``AccumulateGrad``) wrote ``variable.grad``; ``grad`` is the
    increment that arrived, ``variable.grad`` the accumulated total."""

    __slots__ = ("node", "variable", "grad")
    kind = "grad_accumulated"

    def __init__(self, node, variable, grad):
        self.node = node
        self.variable = variable
        self.grad = grad


class BackwardFinished(_Event):
    """The backward call ends; ``error`` is the exception that ended it, or None."""

    __slots__ = ("roots", "error")
    kind = "backward_finished"

    def __init__(self, roots, error=None):
        self.roots = roots
        self.error = error


class OptimizerStep(_Event):
    """``optimizer.step()``: ``phase`` is 'begin' (parameters unchanged yet) or 'end'.
    ``params``: the parameters the step may change, in ``param_groups`` order. A
    listener that wants update sizes copies what it needs at 'begin'."""

    __slots__ = ("optimizer", "params", "phase")
    kind = "optimizer_step"

    def __init__(self, optimizer, params, phase):
        self.optimizer = optimizer
        self.params = params
        self.phase = phase
