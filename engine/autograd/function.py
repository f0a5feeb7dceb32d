"""Custom autograd functions: subclass ``Function`` with static ``forward(ctx, ...)`` and
``backward(ctx, *grads)``; call ``.apply``. The node appears as ``<Name>Backward``."""

from __future__ import annotations

from .grad_mode import _state, no_grad
from .node import Node, SavedTensor, link


class FunctionCtx:
    """The ``ctx`` of a custom function: what forward leaves for backward."""

    def __init__(self):
        self._saved = ()
        self._non_diff = set()
        self.needs_input_grad = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of a custom function; it is also the ``ctx`` backward receives."""

    __slots__ = ("__dict__",)
    _saved_names = ("_saved",)

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            return ()
        from .node import FREED, _SECOND_BACKWARD
        if saved is FREED:
            raise RuntimeError(_SECOND_BACKWARD)
        return tuple(None if s is None else s.unpack(self) for s in saved)

    def _release_saved(self):
        if self._saved is not None:
            from .node import FREED
            self._saved = FREED

    def _saved_items(self):
        return [(f"saved_{i}", t) for i, t in enumerate(self.saved_tensors) if t is not None]

    def apply(self, grads):
        r = self._forward_cls.backward(self, *grads)
        if not isinstance(r, tuple):
            r = (r,)
        n_in = len(self.next_functions)
        if len(r) > n_in:
            if all(x is None for x in r[n_in:]):
                r = r[:n_in]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {n_in}, got {len(r)})")
        elif len(r) < n_in:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n_in}, got {len(r)})")
        return tuple(r[i] if self._input_is_tensor[i] else None for i in range(n_in))


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,),
                                 {"_forward_cls": cls, "__slots__": ()})


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable functions (``torch.autograd.Function``)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor
        node = cls._backward_cls()
        node._saved = None
        FunctionCtx.__init__(node)
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        node._input_is_tensor = [a is not None for a in tensor_args]
        node.needs_input_grad = tuple(a is not None and a._requires_grad for a in tensor_args)
        with no_grad():
            out = cls.forward(node, *args, **kwargs)
        track = _state.enabled and any(node.needs_input_grad)
        outs = out if isinstance(out, tuple) else (out,)
        to_save = getattr(node, "_to_save", None)
        wrapped = []
        for o in outs:
            if isinstance(o, Tensor) and any(o is a for a in args):
                o = o.view(o.shape) if not track else _alias_out(o)
            wrapped.append(o)
        outs = tuple(wrapped)
        if track:
            # every tensor output is an output of the node (backward receives one gradient
            # per output, zeros for the non-differentiable ones); those stay out of the graph
            touts = tuple(o for o in outs if isinstance(o, Tensor))
            if to_save:
                out_ids = {id(o) for o in outs}
                node._saved = tuple(None if t is None else SavedTensor(t, is_output=id(t) in out_ids)
                                    for t in to_save)
            link(node, tuple(tensor_args), touts if len(touts) != 1 else touts[0])
            for o in touts:
                if id(o) in node._non_diff or o._data.dtype.kind != "f":
                    o.grad_fn = None
                    o._requires_grad = False
        elif to_save:
            node._saved = tuple(None if t is None else SavedTensor(t) for t in to_save)
        return outs if isinstance(out, tuple) else outs[0]


def _alias_out(o):
    from ..tensor import Tensor
    r = Tensor._make(o._data)
    r._vc = o._vc
    return r


def once_differentiable(fn):
    """Accepted for compatibility: the backward runs without building a graph."""
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    wrapper.__name__ = fn.__name__
    return wrapper
