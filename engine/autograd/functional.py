"""``engine.autograd.backward`` and ``engine.autograd.grad``: argument checks and seeds,
then the engine (``engine.py``) does the work."""

from __future__ import annotations

from .engine import run_backward

__all__ = ["backward", "grad"]


def _as_tuple(x):
    if x is None:
        return None
    from ..tensor import Tensor
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _seeds(outputs, grad_outputs, create_graph):
    from ..creation import ones_like
    from ..tensor import Tensor
    seeds = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}")
            g = ones_like(out)
        else:
            if not isinstance(g, Tensor):
                from ..creation import tensor
                g = tensor(g, dtype=out.dtype)
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
            if not create_graph:
                g = g.detach()
        seeds.append(g)
    return seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves (or ``inputs``)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if grad_tensors is not None and len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    seeds = _seeds(tensors, grad_tensors, create_graph)
    run_backward(tensors, seeds, retain_graph, create_graph, inputs=inputs, capture=False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    seeds = _seeds(outputs, grad_outputs, create_graph)
    for x in inputs:
        if not x._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    res = run_backward(outputs, seeds, retain_graph, create_graph, inputs=inputs, capture=True,
                       allow_unused=allow_unused)
    if materialize_grads:
        from ..creation import zeros_like
        res = tuple(zeros_like(x) if r is None else r for x, r in zip(inputs, res))
    return res
