"""``gradcheck``: compare the engine's gradients with central finite differences (float64)."""

from __future__ import annotations

import numpy as np


class GradcheckError(RuntimeError):
    pass


def _flat_outputs(out):
    from ..tensor import Tensor
    if isinstance(out, Tensor):
        return (out,)
    return tuple(o for o in out if isinstance(o, Tensor))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **_ignored):
    """True if analytical (backward) and numerical Jacobians of ``func`` agree at ``inputs``.

    Inputs that require grad should be float64; every output element is checked against
    every input element, so keep the tensors small.
    """
    from ..tensor import Tensor
    from ..autograd.functional import grad as autograd_grad
    from ..creation import zeros_like
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for x in diff_inputs:
        if x._data.dtype != np.float64:
            import warnings
            warnings.warn(f"Input #{inputs.index(x)} requires gradient and is not a double "
                          "precision floating point. gradcheck is meant for float64 inputs.")
    outputs = _flat_outputs(func(*inputs))
    for oi, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        n_out = out.numel()
        # analytical: one backward per output element
        analytical = [np.zeros((x.numel(), n_out)) for x in diff_inputs]
        for j in range(n_out):
            seed = zeros_like(out)
            seed._data.reshape(-1)[j] = 1
            outs_j = _flat_outputs(func(*inputs))[oi]
            grads = autograd_grad(outs_j, diff_inputs, seed, allow_unused=True)
            for k, g in enumerate(grads):
                if g is not None:
                    analytical[k][:, j] = np.asarray(g._data, dtype=np.float64).reshape(-1)
        # numerical: central differences
        for k, x in enumerate(diff_inputs):
            flat = x._data.reshape(-1)
            numerical = np.zeros((x.numel(), n_out))
            for i in range(flat.size):
                orig = flat[i].item()
                # no no_grad() here: ``func`` may itself differentiate (gradgradcheck)
                flat[i] = orig + eps
                plus = np.asarray(_flat_outputs(func(*inputs))[oi]._data, np.float64).copy()
                flat[i] = orig - eps
                minus = np.asarray(_flat_outputs(func(*inputs))[oi]._data, np.float64).copy()
                flat[i] = orig
                numerical[i] = ((plus - minus) / (2 * eps)).reshape(-1)
            a = analytical[k]
            if not np.allclose(a, numerical, rtol=rtol, atol=atol, equal_nan=False):
                idx = np.unravel_index(np.argmax(np.abs(a - numerical)), a.shape)
                msg = (f"Jacobian mismatch for output {oi} with respect to input {k},\n"
                       f"numerical:{numerical}\nanalytical:{a}\n"
                       f"largest difference at {idx}: numerical {numerical[idx]:.6g} vs "
                       f"analytical {a[idx]:.6g}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_ignored):
    """Check second derivatives: gradcheck of the function's vector-Jacobian product."""
    from ..tensor import Tensor
    from ..autograd.functional import grad as autograd_grad
    from ..creation import randn_like
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = _flat_outputs(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(randn_like(o, dtype=o.dtype).requires_grad_() for o in outs)

    def vjp(*args):
        xs = args[:len(inputs)]
        gos = args[len(inputs):]
        o = _flat_outputs(func(*xs))
        d = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = autograd_grad(o, d, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    del diff
    return gradcheck(vjp, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
