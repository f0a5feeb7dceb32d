"""Helpers for the engine.nn parity tests: copy a torch module's weights into an engine
module (through numpy), run both on the same data, compare outputs, gradients and the
grad_fn DAG node for node."""

from __future__ import annotations

import numpy as np
import torch

import engine

# the CI machine has 2 cores shared with the engine's own numpy: torch's thread pool
# would only fight it (and slow the parity tests down many times over)
torch.set_num_threads(1)


def to_np(t):
    if isinstance(t, engine.Tensor):
        return np.array(t.detach().numpy())
    return t.detach().cpu().numpy()


def copy_state(tmod, emod):
    """Load ``tmod``'s state dict into ``emod`` (strict), via numpy arrays."""
    sd = {k: engine.tensor(v.detach().numpy().copy()) for k, v in tmod.state_dict().items()}
    result = emod.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys
    return emod


def dag_signature(root):
    """The DAG below ``root`` (a tensor or a node) as a list of (name, children) where
    children are (index of the child in this list or None, input_nr), indices given in
    depth-first order of next_functions: equal signatures mean equal graphs."""
    node = root.grad_fn if hasattr(root, "grad_fn") else root
    index = {}
    out = []

    def visit(n):
        if id(n) in index:
            return index[id(n)]
        i = len(out)
        index[id(n)] = i
        out.append(None)
        children = []
        for nxt, nr in n.next_functions:
            children.append((None if nxt is None else visit(nxt), nr))
        name = n.name().replace("torch::autograd::", "")
        out[i] = (name, tuple(children))
        return i

    if node is not None:
        visit(node)
    return out


def assert_same_dag(ours, theirs, what="graph"):
    a, b = dag_signature(ours), dag_signature(theirs)
    if a != b:
        lines = [f"{what}: grad_fn DAG differs from torch's"]
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else "-"
            y = b[i] if i < len(b) else "-"
            mark = "  " if x == y else "!!"
            lines.append(f"{mark} {i}: engine {x} | torch {y}")
        raise AssertionError("\n".join(lines))


def assert_close(ours, theirs, rtol=1e-4, atol=1e-5, what="value"):
    a = to_np(ours) if not isinstance(ours, np.ndarray) else ours
    b = to_np(theirs) if not isinstance(theirs, np.ndarray) else theirs
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    scale = max(1.0, float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=what)


def _outputs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def module_parity(tmod, emod, inputs, *, rtol=1e-4, atol=1e-5, int_inputs=(), seed=0,
                  check_dag=True):
    """Run both modules on ``inputs`` (numpy arrays) after copying torch's weights; compare
    outputs, input gradients, parameter gradients, buffers and the DAG."""
    copy_state(tmod, emod)
    tins, eins = [], []
    for i, a in enumerate(inputs):
        diff = i not in int_inputs and a.dtype.kind == "f"
        tins.append(torch.tensor(a.copy(), requires_grad=diff))
        eins.append(engine.tensor(a.copy(), requires_grad=diff))
    touts, eouts = _outputs(tmod(*tins)), _outputs(emod(*eins))
    assert len(touts) == len(eouts)
    rng = np.random.default_rng(seed)
    tl, el = 0, 0
    for k, (t, e) in enumerate(zip(touts, eouts)):
        assert_close(e, t, rtol, atol, f"output {k}")
        if check_dag:
            assert_same_dag(e, t, f"output {k}")
        if t.requires_grad:
            g = rng.standard_normal(tuple(t.shape)).astype(to_np(t).dtype)
            tl = tl + (t * torch.tensor(g)).sum()
            el = el + (e * engine.tensor(g)).sum()
    if isinstance(tl, torch.Tensor):
        tl.backward()
        el.backward()
    for k, (t, e) in enumerate(zip(tins, eins)):
        if t.grad is not None:
            assert e.grad is not None, f"input {k}: no gradient"
            assert_close(e.grad, t.grad, rtol, atol, f"grad of input {k}")
        else:
            assert e.grad is None, f"input {k}: torch gives no gradient, engine does"
    tparams = dict(tmod.named_parameters())
    eparams = dict(emod.named_parameters())
    assert list(tparams) == list(eparams)
    for name, tp in tparams.items():
        ep = eparams[name]
        if tp.grad is None:
            assert ep.grad is None, f"{name}: engine has a gradient, torch none"
        else:
            assert_close(ep.grad, tp.grad, rtol, atol, f"grad of {name}")
    tbufs, ebufs = dict(tmod.named_buffers()), dict(emod.named_buffers())
    assert list(tbufs) == list(ebufs)
    for name, tb in tbufs.items():
        assert_close(ebufs[name], tb, rtol, atol, f"buffer {name}")
    return touts, eouts
