"""Backward graph nodes (``grad_fn``), saved tensors and ``AccumulateGrad``.

A node is created by a forward op and named as PyTorch names it (``MulBackward0``).
``next_functions[i] = (node, input_nr)`` says where the gradient for the op's i-th input
goes (``(None, 0)`` where that input needs none). A node's ``backward`` takes the
gradient(s) of its forward output(s) and returns one gradient per input, possibly still
broadcast: the engine reduces it to the input's shape and dtype in one central place.

Outputs are never saved with their own ``grad_fn`` (that would be a reference cycle):
``SavedTensor(out, is_output=True)`` keeps only the array, and when unpacked during a
``create_graph`` backward it is re-wrapped with the running node as its ``grad_fn``.
"""

from __future__ import annotations

import itertools
import re
import traceback

from numpy import ndarray as _ndarray

from . import events
from .events import _listeners
from .grad_mode import _state
from ..device import CPU

__all__ = ["Node", "AccumulateGrad", "SavedTensor", "RemovableHandle", "link"]

_next_seq = itertools.count().__next__
# AccumulateGrad runs as soon as it is ready (PyTorch gives it UINT64_MAX).
ACCUMULATE_SEQ = (1 << 64) - 1


class RemovableHandle:
    """Returned by hook registrations; ``remove()`` unregisters (idempotent)."""

    __slots__ = ("_list", "_item")

    def __init__(self, lst, item):
        self._list = lst
        self._item = item

    def remove(self):
        try:
            self._list.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class _Freed:
    __slots__ = ()

    def __repr__(self):
        return "<freed>"


FREED = _Freed()

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved."""

    __slots__ = ("tensor", "data", "vc", "version", "requires_grad")

    def __init__(self, t, is_output=False):
        self.vc = t._vc
        self.version = t._vc[0]
        if is_output:
            # saved before link() marks it: an output saved by a node always requires grad
            self.tensor = None
            self.data = t._data
            self.requires_grad = True
        else:
            self.tensor = t
            self.data = None

    def unpack(self, node):
        if self.vc[0] != self.version:
            raise RuntimeError(self._stale_message(node))
        if self.tensor is not None:
            return self.tensor
        out = (_Tensor or _tensor_class())._make(self.data)
        out._vc = self.vc
        if _state.enabled and self.requires_grad:
            out._requires_grad = True
            out.grad_fn = node
        return out

    def _stale_message(self, node):
        """PyTorch 2.13's text: the tensor's type and shape, which op's output it is (a
        saved output names the saving op; a saved input its current grad_fn; a leaf
        nothing), and the versions."""
        t = self.tensor
        arr = t._data if t is not None else self.data
        if t is None:
            where = f", which is output 0 of {forward_name(node.name())}"
        elif t.grad_fn is not None:
            where = f", which is output {t._output_nr} of {forward_name(t.grad_fn.name())}"
        else:
            where = ""
        sep = "," if where else ""
        return ("one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [{_type_name(arr.dtype)} {list(arr.shape)}]{where}{sep} "
                f"is at version {self.vc[0]}; expected version {self.version} instead. Hint: "
                "enable anomaly detection to find the operation that failed to compute its "
                "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def forward_name(node_name: str) -> str:
    """'ExpBackward0' -> 'Exp': how PyTorch names the op in some of its messages."""
    return re.sub(r"Backward\d*$", "", node_name)


_Tensor = None


def _tensor_class():
    """engine.Tensor, imported on first use (tensor.py imports this module)."""
    global _Tensor
    from ..tensor import Tensor
    _Tensor = Tensor
    return Tensor


def _type_name(npdtype) -> str:
    names = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
             "float16": "torch.HalfTensor", "int64": "torch.LongTensor",
             "int32": "torch.IntTensor", "bool": "torch.BoolTensor"}
    return names.get(str(npdtype), str(npdtype))


class Node:
    """Base of every ``grad_fn``. Subclasses implement ``backward(self, *grads)``.

    Class attribute ``_saved_names`` lists the slots holding ``SavedTensor``s, so the
    engine can free them after a backward pass and the debugger can list them.
    """

    # ``_hk``: None, or [pre_hooks, post_hooks, tensor_pre_hooks] once a hook is registered
    # (one slot, set by link(), so the engine pays one ``is None`` test per node).
    __slots__ = ("next_functions", "_seq_nr", "_meta", "_metadata", "_hk", "__weakref__")
    _saved_names = ()

    def name(self) -> str:
        return type(self).__name__

    def _sequence_nr(self) -> int:
        return self._seq_nr

    @property
    def metadata(self) -> dict:
        # link() sets the slot to None, so the common read raises nothing (reading an unset
        # slot goes through this class's Python ``__getattr__``: several times slower, and
        # the debugger reads metadata once per node created).
        try:
            m = self._metadata
        except AttributeError:      # a node link() never saw
            m = None
        if m is None:
            m = self._metadata = {}
        return m

    @property
    def _output_meta(self):
        """(shape, dtype, device) of each forward output this node receives a gradient for."""
        from ..dtypes import from_numpy_dtype
        from ..size import Size
        return tuple((Size(s), from_numpy_dtype(d), dev) for s, d, dev in self._meta)

    def _saved_items(self):
        """The saved tensors as (name, Tensor) pairs, for inspection."""
        items = []
        for name in self._saved_names:
            sv = getattr(self, name, None)
            if sv is None:
                continue
            if sv is FREED:
                raise RuntimeError(_SECOND_BACKWARD)
            if isinstance(sv, SavedTensor):
                t = sv.tensor
                if t is None:
                    from ..tensor import Tensor
                    t = Tensor._make(sv.data)
                items.append((name, t))
        return items

    def __getattr__(self, name):
        """PyTorch's ``grad_fn._saved_self`` / ``_saved_result`` / ``_saved_exponent``: the
        saved tensor (unpacked; an output comes back as a new tensor object with this node
        as its grad_fn) or the saved scalar. Slots are named ``self_``, ``result``, ...;
        only reached when ordinary attribute lookup failed, so no cost elsewhere."""
        if not name.startswith("_saved_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        key = name[7:]
        for slot in (key, key + "_"):
            for cls in type(self).__mro__:
                if slot in getattr(cls, "__slots__", ()):
                    break
            else:
                continue
            v = object.__getattribute__(self, slot) if _has_slot(self, slot) else None
            if v is FREED:
                raise RuntimeError(_SECOND_BACKWARD)
            return v.unpack(self) if isinstance(v, SavedTensor) else v
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _release_saved(self):
        for name in self._saved_names:
            if getattr(self, name, None) is not None:
                setattr(self, name, FREED)

    def unpack(self, sv):
        """Unpack a saved tensor slot, raising PyTorch's errors when freed or stale."""
        if sv is FREED:
            raise RuntimeError(_SECOND_BACKWARD)
        return sv.unpack(self)

    def unpack_or_value(self, v):
        """A slot holding either a SavedTensor or a Python scalar (``x * 2``); freed slots
        raise like saved tensors do (PyTorch saves the scalar as a tensor too)."""
        if v is FREED:
            raise RuntimeError(_SECOND_BACKWARD)
        return v.unpack(self) if type(v) is SavedTensor else v

    def needs(self, i) -> bool:
        """Does the i-th input need a gradient?"""
        return self.next_functions[i][0] is not None

    def apply(self, grads):
        """Run the backward formula on the list of output gradients; a tuple per input."""
        r = self.backward(*grads)
        return r if type(r) is tuple else (r,)

    def backward(self, *grads):  # pragma: no cover - every op overrides it
        raise NotImplementedError(f"{self.name()} has no backward formula")

    def __call__(self, *grads):
        return self.apply(list(grads))

    def _hook_lists(self):
        hk = getattr(self, "_hk", None)
        if hk is None:
            hk = self._hk = [[], [], []]
        return hk

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` after the node runs; may return new grad_inputs."""
        hooks = self._hook_lists()[1]
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before the node runs; may return new grad_outputs."""
        hooks = self._hook_lists()[0]
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def _register_tensor_hook(self, output_nr, fn):
        hooks = self._hook_lists()[2]
        item = (output_nr, fn)
        hooks.append(item)
        return RemovableHandle(hooks, item)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The leaf end of the graph: adds the arriving gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()
        self._hk = self._metadata = None
        self._seq_nr = ACCUMULATE_SEQ
        self._meta = ((variable._data.shape, variable._data.dtype, variable.device),)

    def apply(self, grads):
        accumulate_into(self, self.variable, grads[0])
        return ()


def accumulate_into(node, var, grad):
    """``var.grad += grad`` as PyTorch does: a fresh buffer the first time (never an alias
    of a gradient that also flows elsewhere), in place afterwards unless building a graph."""
    hooks = getattr(var, "_hooks", None)
    if hooks:
        for fn in tuple(hooks):
            r = fn(grad)
            if r is not None:
                grad = r
    if var.grad is None:
        if _state.enabled and grad._requires_grad:
            # create_graph: a fresh buffer that keeps the gradient's graph (PyTorch's
            # new_empty_strided().copy_(), hence CopyBackwards)
            from ..creation import empty_like
            var.grad = empty_like(grad).copy_(grad)
        else:
            var.grad = grad.detach().clone()
    elif _state.enabled:
        var.grad = var.grad + grad
    else:
        g = var.grad
        g._data += grad._data
        g._vc[0] += 1
    if _listeners:
        events.emit(events.GradAccumulated(node, var, grad))
    post = getattr(var, "_post_acc_hooks", None)
    if post:
        for fn in tuple(post):
            fn(var)


_NO_EDGE = (None, 0)


def link(node, inputs, outputs):
    """Wire ``node`` as the ``grad_fn`` of ``outputs`` (a Tensor or tuple) over ``inputs``.

    Sets ``next_functions`` from the inputs (``(None, 0)`` for inputs that need no grad or
    are not tensors), the sequence number, and the output metadata; emits NodeCreated.
    This runs once per op in every forward pass: keep it lean.
    """
    nf = []
    for t in inputs:
        if t is None or not t._requires_grad:
            nf.append(_NO_EDGE)
        else:
            fn = t.grad_fn
            nf.append((fn, t._output_nr) if fn is not None else (t._grad_accumulator(), 0))
    node.next_functions = tuple(nf)
    node._seq_nr = _next_seq()
    node._hk = node._metadata = None
    if type(outputs) is tuple:
        meta = []
        for i, o in enumerate(outputs):
            o.grad_fn = node
            o._requires_grad = True
            o._output_nr = i
            a = o._data
            meta.append((a.shape, a.dtype, CPU if type(a) is _ndarray else o.device))
        node._meta = tuple(meta)
    else:
        outputs.grad_fn = node
        outputs._requires_grad = True
        a = outputs._data
        node._meta = ((a.shape, a.dtype, CPU if type(a) is _ndarray else outputs.device),)
    if _anomaly[0]:
        node.metadata["traceback_"] = "".join(traceback.format_stack()[:-2])
    if _listeners:
        ins = inputs
        for t in inputs:
            if t is None:
                ins = tuple([t for t in inputs if t is not None])
                break
        events.emit(events.NodeCreated(node, ins, outputs if type(outputs) is tuple
                                       else (outputs,)))
    return node


# detect_anomaly state: [enabled, check_nan]; lives here so link() reads it cheaply.
_anomaly = [False, True]


def _has_slot(obj, slot) -> bool:
    try:
        object.__getattribute__(obj, slot)
        return True
    except AttributeError:
        return False
