"""Shared helpers for comparing the engine with PyTorch (the live ``torch`` from the test
extra): run one expression on both, compare values, gradients and graph structure."""

from __future__ import annotations

import numpy as np
import torch

import engine

__all__ = ["tol_close", "run_both", "graph_signature", "assert_same_graph", "rand_arrays"]


def tol_close(ours, ref, rtol=1e-5, atol_scale=1e-5, what="value"):
    """Assert ``ours`` ≈ ``ref`` with rel err ``rtol`` and an absolute floor scaled by the
    reference's magnitude (float32 cannot do better near zero)."""
    a = np.asarray(ours.detach().numpy() if isinstance(ours, engine.Tensor) else ours)
    b = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch's {b.dtype}"
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    scale = float(np.max(np.abs(b[np.isfinite(b)]), initial=1.0))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol_scale * scale, equal_nan=True,
                               err_msg=what)


def rand_arrays(shapes, seed=0, low=None, dtype=np.float32):
    """Standard-normal arrays of ``shapes`` (or uniform in [low, low+2) when ``low`` given)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = rng.standard_normal(s) if low is None else rng.uniform(low, low + 2, s)
        out.append(np.asarray(a, dtype=dtype))
    return out


def _outputs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def run_both(fn, arrays, *, grad=True, seed=1):
    """Evaluate ``fn(T, *tensors)`` with T = engine and T = torch on the same ``arrays``.

    Returns (ours, theirs) where each is (outputs, input_grads); gradients come from a
    backward with a random upstream gradient for every float output that requires grad.
    """
    results = []
    for T in (engine, torch):
        xs = [T.tensor(a.copy(), requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        outs = _outputs(fn(T, *xs))
        grads = None
        diff = [o for o in outs if isinstance(o, T.Tensor) and o.requires_grad]
        if grad and diff:
            rng = np.random.default_rng(seed)
            seeds = [T.tensor(rng.standard_normal(tuple(o.shape)).astype(
                o.detach().numpy().dtype)) for o in diff]
            T.autograd.backward(diff, seeds)
            grads = [x.grad for x in xs]
        results.append((outs, grads))
    return results[0], results[1]


def check_parity(fn, arrays, *, rtol=1e-5, atol_scale=1e-5, grad=True, label=""):
    (o_e, g_e), (o_t, g_t) = run_both(fn, arrays, grad=grad)
    assert len(o_e) == len(o_t), f"{label}: {len(o_e)} outputs, torch has {len(o_t)}"
    for i, (a, b) in enumerate(zip(o_e, o_t)):
        if isinstance(b, torch.Tensor):
            tol_close(a, b, rtol, atol_scale, f"{label} output {i}")
            assert a.requires_grad == b.requires_grad, f"{label} output {i} requires_grad"
        else:
            assert a == b, f"{label} output {i}"
    if g_t is not None:
        assert g_e is not None, f"{label}: torch computed gradients, the engine did not"
        for i, (a, b) in enumerate(zip(g_e, g_t)):
            if b is None:
                assert a is None, f"{label}: grad of input {i} should be None"
            else:
                assert a is not None, f"{label}: no grad for input {i}"
                tol_close(a, b, rtol, atol_scale, f"{label} grad of input {i}")


def graph_signature(fn):
    """(class name, ((signature of next node, input_nr), ...)) recursively; None where an
    input needs no gradient. Class names, not ``name()``: torch's AccumulateGrad.name()
    carries a C++ namespace."""
    if fn is None:
        return None
    return (type(fn).__name__,
            tuple((graph_signature(n), nr if n is not None else 0) for n, nr in fn.next_functions))


def assert_same_graph(fn, shapes, label=""):
    arrays = rand_arrays(shapes, low=0.5)
    sigs = []
    for T in (engine, torch):
        xs = [T.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = fn(T, *xs)
        if isinstance(out, (tuple, list)):
            out = out[0]
        sigs.append(graph_signature(out.grad_fn))
    assert sigs[0] == sigs[1], f"{label}:\n engine {sigs[0]}\n torch  {sigs[1]}"
