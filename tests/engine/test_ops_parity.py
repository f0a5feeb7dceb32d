"""Forward values and input gradients of every op compared with PyTorch (float32, random
shapes with broadcasting, rel err 1e-5 with a magnitude-scaled absolute floor)."""

import numpy as np
import pytest
import torch

import engine

from _parity import check_parity, rand_arrays, tol_close

POS = 0.5    # inputs drawn from [0.5, 2.5): log, sqrt, pow, division
# label: (fn(T, *tensors), shapes, low)
CASES = {
    # arithmetic with broadcasting, tensor and scalar forms, right-hand forms
    "add": (lambda T, a, b: a + b, [(3, 4), (4,)], None),
    "add_bcast_both": (lambda T, a, b: a + b, [(3, 1), (1, 4)], None),
    "add_alpha": (lambda T, a, b: T.add(a, b, alpha=2.5), [(2, 3), (3,)], None),
    "sub": (lambda T, a, b: a - b, [(2, 3, 4), (3, 1)], None),
    "sub_alpha": (lambda T, a, b: a.sub(b, alpha=0.5), [(2, 3), (2, 3)], None),
    "mul": (lambda T, a, b: a * b, [(5, 1, 3), (4, 3)], None),
    "div": (lambda T, a, b: a / b, [(3, 4), (4,)], POS),
    "pow_tt": (lambda T, a, b: a ** b, [(3, 4), (4,)], POS),
    "pow_scalar": (lambda T, a: a ** 3, [(3, 4)], None),
    "pow_half": (lambda T, a: a ** 0.5, [(3, 4)], POS),
    "pow_neg": (lambda T, a: a ** -1.5, [(3, 4)], POS),
    "pow_zero": (lambda T, a: a ** 0, [(3,)], None),
    "rpow": (lambda T, a: 2.0 ** a, [(3, 4)], None),
    "neg": (lambda T, a: -a, [(3, 4)], None),
    "radd": (lambda T, a: 2 + a, [(3,)], None),
    "rsub": (lambda T, a: 2 - a, [(3,)], None),
    "rmul": (lambda T, a: 2.5 * a, [(3,)], None),
    "rdiv": (lambda T, a: 2 / a, [(3,)], POS),
    "scalar_ops": (lambda T, a: (a * 2 - 1) / 4 + 0.5, [(3, 2)], None),
    "zero_dim_tensor": (lambda T, a, b: a * b.sum(), [(3, 2), (2,)], None),
    # unary
    "abs": (lambda T, a: a.abs(), [(3, 4)], None),
    "exp": (lambda T, a: T.exp(a), [(3, 4)], None),
    "log": (lambda T, a: T.log(a), [(3, 4)], POS),
    "sqrt": (lambda T, a: a.sqrt(), [(3, 4)], POS),
    "sin": (lambda T, a: a.sin(), [(3, 4)], None),
    "cos": (lambda T, a: T.cos(a), [(3, 4)], None),
    "tanh": (lambda T, a: a.tanh(), [(3, 4)], None),
    "sigmoid": (lambda T, a: T.sigmoid(a * 5), [(3, 4)], None),
    "relu": (lambda T, a: a.relu(), [(3, 4)], None),
    "clamp": (lambda T, a: a.clamp(-0.5, 0.5), [(3, 4)], None),
    "clamp_min": (lambda T, a: a.clamp(min=0.1), [(3, 4)], None),
    "clamp_max": (lambda T, a: T.clamp(a, max=0.1), [(3, 4)], None),
    "clamp_tensor": (lambda T, a, lo, hi: a.clamp(lo, hi + 1), [(3, 4), (4,), (3, 1)], None),
    "pow_fn": (lambda T, a: T.pow(a, 2), [(3, 4)], None),
    "square": (lambda T, a: a.square(), [(3,)], None),
    "rsqrt": (lambda T, a: a.rsqrt(), [(3,)], POS),
    "reciprocal": (lambda T, a: a.reciprocal(), [(3,)], POS),
    "log1p": (lambda T, a: a.log1p(), [(3,)], POS),
    "expm1": (lambda T, a: a.expm1(), [(3,)], None),
    "maximum": (lambda T, a, b: T.maximum(a, b), [(3, 4), (4,)], None),
    "minimum": (lambda T, a, b: T.minimum(a, b), [(3, 1), (1, 4)], None),
    "maximum_ties": (lambda T, a: T.maximum(a, a.detach()), [(3,)], None),
    "where": (lambda T, a, b: T.where(a > 0, a, b), [(3, 4), (4,)], None),
    "where_scalar": (lambda T, a: T.where(a > 0, a, 0.0), [(3, 4)], None),
    "masked_fill": (lambda T, a: a.masked_fill(a > 0, 2.0), [(3, 4)], None),
    # reductions
    "sum": (lambda T, a: a.sum(), [(3, 4)], None),
    "sum_dim": (lambda T, a: a.sum(1), [(3, 4, 2)], None),
    "sum_dims_keep": (lambda T, a: a.sum((0, 2), keepdim=True), [(3, 4, 2)], None),
    "sum_neg_dim": (lambda T, a: a.sum(-1), [(3, 4)], None),
    "mean": (lambda T, a: a.mean(), [(3, 4)], None),
    "mean_dim": (lambda T, a: a.mean(0, keepdim=True), [(3, 4)], None),
    "var": (lambda T, a: a.var(), [(3, 4)], None),
    "var_dim": (lambda T, a: a.var(1, keepdim=True), [(3, 4)], None),
    "var_biased": (lambda T, a: a.var(0, unbiased=False), [(3, 4)], None),
    "var_correction": (lambda T, a: T.var(a, dim=1, correction=0), [(3, 4)], None),
    "std": (lambda T, a: a.std(), [(3, 4)], None),
    "std_dim": (lambda T, a: a.std(0), [(3, 4)], None),
    "max": (lambda T, a: a.max(), [(3, 4)], None),
    "max_dim": (lambda T, a: a.max(1), [(3, 4)], None),
    "max_dim_keep": (lambda T, a: a.max(0, keepdim=True), [(3, 4)], None),
    "min": (lambda T, a: a.min(), [(3, 4)], None),
    "min_dim": (lambda T, a: T.min(a, 1), [(3, 4)], None),
    "max_binary": (lambda T, a, b: T.max(a, b), [(3, 4), (4,)], None),
    "argmax": (lambda T, a: (a.argmax(), a.argmax(1), a.argmax(0, keepdim=True)), [(3, 4)], None),
    "argmin": (lambda T, a: (a.argmin(), a.argmin(1)), [(3, 4)], None),
    "amax": (lambda T, a: a.amax(1), [(3, 4)], None),
    "amax_dims": (lambda T, a: a.amax((0, 2), keepdim=True), [(3, 4, 2)], None),
    "amin": (lambda T, a: a.amin(0), [(3, 4)], None),
    "logsumexp": (lambda T, a: a.logsumexp(1), [(3, 4)], None),
    "logsumexp_keep": (lambda T, a: T.logsumexp(a * 30, (0, 1), keepdim=True), [(3, 4)], None),
    "norm": (lambda T, a: a.norm(), [(3, 4)], None),
    "norm_fn": (lambda T, a: T.norm(a), [(3, 4)], None),
    "norm_dim": (lambda T, a: a.norm(dim=1, keepdim=True), [(3, 4)], None),
    "norm_p1": (lambda T, a: a.norm(p=1, dim=0), [(3, 4)], None),
    "norm_p3": (lambda T, a: a.norm(p=3), [(3, 4)], None),
    "norm_inf": (lambda T, a: a.norm(p=float("inf"), dim=1), [(3, 4)], None),
    "linalg_vector_norm": (lambda T, a: T.linalg.vector_norm(a, 2, dim=(0, 1)), [(3, 4)], None),
    "prod": (lambda T, a: a.prod(), [(3, 2)], POS),
    "prod_dim": (lambda T, a: a.prod(1), [(3, 4)], None),
    # matmul family
    "mm": (lambda T, a, b: a @ b, [(3, 4), (4, 5)], None),
    "mv": (lambda T, a, b: a @ b, [(3, 4), (4,)], None),
    "vm": (lambda T, a, b: a @ b, [(4,), (4, 5)], None),
    "dot": (lambda T, a, b: a @ b, [(4,), (4,)], None),
    "bmm": (lambda T, a, b: a @ b, [(2, 3, 4), (2, 4, 5)], None),
    "batched_bcast": (lambda T, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 5)], None),
    "nd_at_2d": (lambda T, a, b: a @ b, [(2, 3, 4), (4, 5)], None),
    "2d_at_nd": (lambda T, a, b: T.matmul(a, b), [(3, 4), (2, 4, 5)], None),
    "nd_at_1d": (lambda T, a, b: a @ b, [(2, 3, 4), (4,)], None),
    "1d_at_nd": (lambda T, a, b: a @ b, [(4,), (2, 4, 5)], None),
    "addmm": (lambda T, c, a, b: T.addmm(c, a, b), [(5,), (3, 4), (4, 5)], None),
    "addmm_scaled": (lambda T, c, a, b: T.addmm(c, a, b, beta=0.5, alpha=2), [(3, 5), (3, 4), (4, 5)], None),
    "bmm_fn": (lambda T, a, b: T.bmm(a, b), [(2, 3, 4), (2, 4, 5)], None),
    # shape ops
    "reshape": (lambda T, a: a.reshape(4, 3) * 2, [(3, 4)], None),
    "reshape_copy": (lambda T, a: a.t().reshape(-1) * 2, [(3, 4)], None),
    "view": (lambda T, a: a.view(2, -1) * 2, [(3, 4)], None),
    "flatten": (lambda T, a: a.flatten(1) * 2, [(2, 3, 4)], None),
    "squeeze": (lambda T, a: a.squeeze() * 2, [(3, 1, 4)], None),
    "squeeze_dim": (lambda T, a: a.squeeze(1) * 2, [(3, 1, 4)], None),
    "unsqueeze": (lambda T, a: a.unsqueeze(-1) * 2, [(3, 4)], None),
    "transpose": (lambda T, a: a.transpose(0, 2) * 2, [(2, 3, 4)], None),
    "permute": (lambda T, a: a.permute(2, 0, 1) * 2, [(2, 3, 4)], None),
    "t": (lambda T, a: a.t() * 2, [(3, 4)], None),
    "T": (lambda T, a: a.T * 2, [(3, 4)], None),
    "expand": (lambda T, a: a.expand(2, 3, 4) * 2, [(3, 1)], None),
    "expand_neg1": (lambda T, a: a.expand(5, -1) * 2, [(1, 4)], None),
    "repeat": (lambda T, a: a.repeat(2, 1, 3) * 2, [(3, 4)], None),
    "cat": (lambda T, a, b: T.cat([a, b], 1) * 2, [(3, 4), (3, 2)], None),
    "cat0": (lambda T, a, b, c: T.cat([a, b, c]), [(1, 4), (3, 4), (2, 4)], None),
    "stack": (lambda T, a, b: T.stack([a, b], 1) * 2, [(3, 4), (3, 4)], None),
    "split": (lambda T, a: a.split(2, 1), [(3, 5)], None),
    "split_sizes": (lambda T, a: T.split(a, [1, 2], 0), [(3, 5)], None),
    "split_partial_use": (lambda T, a: a.split(2)[1] * 2, [(5, 3)], None),
    "chunk": (lambda T, a: a.chunk(3, 1), [(3, 5)], None),
    "unbind": (lambda T, a: a.unbind(1), [(3, 2)], None),
    "narrow": (lambda T, a: a.narrow(1, 1, 2) * 2, [(3, 4)], None),
    "movedim": (lambda T, a: a.movedim(0, -1) * 2, [(2, 3, 4)], None),
    # indexing
    "index_int": (lambda T, a: a[1] * 2, [(3, 4)], None),
    "index_slices": (lambda T, a: a[1:, ::2] * 2, [(3, 4)], None),
    "index_neg": (lambda T, a: a[-1, -2:] * 2, [(3, 4)], None),
    "index_none_ellipsis": (lambda T, a: a[None, ..., 1] * 2, [(2, 3, 4)], None),
    "index_int_array": (lambda T, a: a[T.tensor([0, 2, 0])] * 2, [(3, 4)], None),
    "index_list": (lambda T, a: a[[2, 0, 2]] * 2, [(3, 4)], None),
    "index_two_arrays": (lambda T, a: a[[0, 1, 1], [3, 2, 3]] * 2, [(3, 4)], None),
    "index_bool": (lambda T, a: a[a > 0] * 2, [(3, 4)], None),
    "index_bool_row": (lambda T, a: a[T.tensor([True, False, True])] * 2, [(3, 4)], None),
    "index_mixed": (lambda T, a: a[1:, [0, 2]] * 2, [(3, 4)], None),
    "index_int_slice_array": (lambda T, a: a[0, :, [0, 1]] * 2, [(2, 3, 4)], None),
    "index_select": (lambda T, a: a.index_select(1, T.tensor([3, 0, 3])) * 2, [(3, 4)], None),
    "gather": (lambda T, a: a.gather(1, T.tensor([[0, 0], [1, 3], [2, 2]])) * 2, [(3, 4)], None),
    "setitem_slice": (lambda T, a, b: _setitem(a, (slice(0, 2),), b), [(3, 4), (4,)], None),
    "setitem_int": (lambda T, a, b: _setitem(a, (1,), b * 3), [(3, 4), (4,)], None),
    "setitem_bool": (lambda T, a: _setitem(a, a > 0, 0.0), [(3, 4)], None),
    "setitem_array": (lambda T, a, b: _setitem(a, T.tensor([0, 2]), b), [(3, 4), (2, 4)], None),
    # conversions that keep the graph
    "clone": (lambda T, a: a.clone() * 2, [(3,)], None),
    "to_double": (lambda T, a: a.double() * 2, [(3,)], None),
    "contiguous": (lambda T, a: a.t().contiguous() * 2, [(3, 2)], None),
    # comparisons (no graph)
    "compare": (lambda T, a, b: (a > b, a >= b, a < b, a <= b, a == b, a != b, a > 0.1),
                [(3, 4), (4,)], None),
    "logical": (lambda T, a: ((a > 0) & (a < 1), (a > 0) | (a < -1), ~(a > 0), (a > 0) ^ (a > 1)),
                [(3, 4)], None),
}


def _setitem(a, index, value):
    z = a * 1
    z[index] = value
    return z


@pytest.mark.parametrize("label", list(CASES))
def test_op_matches_torch(label):
    fn, shapes, low = CASES[label]
    check_parity(fn, rand_arrays(shapes, seed=len(label), low=low), label=label)


INPLACE = {
    "add_": (lambda T, a, b: (a * 1).add_(b), [(3, 4), (4,)]),
    "add_alpha_": (lambda T, a, b: (a * 1).add_(b, alpha=-2), [(3, 4), (4,)]),
    "sub_": (lambda T, a, b: (a * 1).sub_(b), [(3, 4), (3, 1)]),
    "mul_": (lambda T, a, b: (a * 1).mul_(b), [(3, 4), (4,)]),
    "div_": (lambda T, a, b: (a * 1).div_(b + 3), [(3, 4), (4,)]),
    "mul_self": (lambda T, a: (a * 1).mul_(a), [(3, 4)]),
    "iadd": (lambda T, a, b: _aug(a, b, "add"), [(3, 4), (4,)]),
    "isub": (lambda T, a, b: _aug(a, b, "sub"), [(3, 4), (4,)]),
    "imul": (lambda T, a, b: _aug(a, b, "mul"), [(3, 4), (4,)]),
    "idiv": (lambda T, a, b: _aug(a, b + 3, "div"), [(3, 4), (4,)]),
    "zero_": (lambda T, a: (a * 1).zero_() + a, [(3, 4)]),
    "fill_": (lambda T, a: (a * 1).fill_(2.0) * a, [(3, 4)]),
    "copy_": (lambda T, a, b: (a * 1).copy_(b) * a, [(3, 4), (4,)]),
    "clamp_": (lambda T, a: (a * 1).clamp_(-0.5, 0.5), [(3, 4)]),
    "relu_": (lambda T, a: (a * 1).relu_(), [(3, 4)]),
    "exp_then_use": (lambda T, a: (a * 1).exp_() * 2, [(3, 4)]),
    "chain": (lambda T, a, b: _chain(a, b), [(3, 4), (4,)]),
}


def _aug(a, b, op):
    z = a * 1
    if op == "add":
        z += b
    elif op == "sub":
        z -= b
    elif op == "mul":
        z *= b
    else:
        z /= b
    return z


def _chain(a, b):
    z = a.sin()
    z.add_(b)
    z.mul_(2)
    z -= 1
    return z.sin()


@pytest.mark.parametrize("label", list(INPLACE))
def test_inplace_matches_torch(label):
    fn, shapes = INPLACE[label]
    check_parity(fn, rand_arrays(shapes, seed=3), label=label)


def test_dtype_promotion_matches_torch():
    cases = [
        (np.array([1, 2, 3]), 2.5), (np.array([1, 2, 3]), 2), (np.array([1., 2.], np.float32), 2),
        (np.array([True, False]), 1), (np.array([1, 2], np.int32), np.array(3)),
        (np.array([1., 2.], np.float32), np.array([1., 2.])),
        (np.array([1, 2]), np.array(2.5, np.float64)),
        (np.array([1., 2.], np.float32), np.array(2.5, np.float64)),
        (np.array([1., 2.], np.float64), np.array([1., 2.], np.float32)),
    ]
    for a, b in cases:
        for op in ("add", "mul", "sub", "div"):
            ea = engine.tensor(a)
            ta = torch.tensor(a)
            eb = engine.tensor(b) if isinstance(b, np.ndarray) else b
            tb = torch.tensor(b) if isinstance(b, np.ndarray) else b
            if op == "sub" and a.dtype == np.bool_:
                continue
            r_e = getattr(engine, op)(ea, eb)
            r_t = getattr(torch, op)(ta, tb)
            assert str(r_e.dtype) == str(r_t.dtype), (a.dtype, b, op, r_e.dtype, r_t.dtype)
            tol_close(r_e, r_t, what=f"{op} {a.dtype} {b!r}")


def test_int_and_bool_reductions_match_torch():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    for name, args in [("sum", ()), ("sum", (1,)), ("max", ()), ("amax", (0,)), ("prod", ())]:
        r_e = getattr(engine.tensor(a), name)(*args)
        r_t = getattr(torch.tensor(a), name)(*args)
        tol_close(r_e, r_t, what=name)
    b = np.array([True, False, True])
    tol_close(engine.tensor(b).sum(), torch.tensor(b).sum(), what="bool sum")
    assert engine.tensor(b).any().item() and not engine.tensor(b).all().item()


def test_float64_stays_float64():
    x = engine.tensor([1.0, 2.0], dtype=engine.float64, requires_grad=True)
    y = (x * 2.5 + 1).exp().sum()
    y.backward()
    assert y.dtype is engine.float64 and x.grad.dtype is engine.float64


def test_gradient_is_cast_to_input_dtype():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    b = engine.tensor([3.0, 4.0], dtype=engine.float64, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype is engine.float32 and b.grad.dtype is engine.float64


@pytest.mark.parametrize("call", [
    lambda T, x: x.topk(2),
    lambda T, x: T.topk(x, 3, dim=0, largest=False),
    lambda T, x: x.sort(dim=1, descending=True),
    lambda T, x: T.sort(x, dim=0),
    lambda T, x: x.max(1),
])
def test_sort_and_topk_values_indices_and_gradients(call):
    """Distinct values (tie order is unspecified in PyTorch): same values, indices, the
    same return type printout, and the gradient scattered back to the chosen places."""
    a = np.random.default_rng(0).permutation(20).astype(np.float32).reshape(4, 5)
    res = {}
    for T in (engine, torch):
        x = T.tensor(a, requires_grad=True)
        v, i = call(T, x)
        w = T.tensor(np.arange(v.numel(), dtype=np.float32).reshape(tuple(v.shape)))
        (v * w).sum().backward()
        res[T] = (v, i, x.grad, repr(call(T, x.detach())), v.grad_fn.name())
    (ev, ei, eg, er, en), (tv, ti, tg, tr, tn) = res[engine], res[torch]
    tol_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    tol_close(eg, tg)
    assert er == tr and en == tn


def test_sort_is_stable_and_puts_nan_last_ascending():
    a = np.array([3.0, 1.0, np.nan, 3.0, 1.0], np.float32)
    for T in (engine, torch):
        assert T.tensor(a).sort(stable=True).indices.tolist() == [1, 4, 0, 3, 2]
        assert T.tensor(a).sort(descending=True, stable=True).indices.tolist() == [2, 0, 3, 1, 4]
        assert T.tensor(a).argsort(stable=True).tolist() == [1, 4, 0, 3, 2]
    with pytest.raises(RuntimeError, match="k out of range"):
        engine.tensor(a).topk(6)


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("float16", "int64"),
                                    ("uint8", "int8"), ("bool", "int32"),
                                    ("float32", "float64", "int64")])
def test_cat_and_stack_promote_dtypes_as_pytorch(dtypes):
    """numpy would make int64 with float32 a float64; PyTorch keeps float32."""
    for op in ("cat", "stack"):
        outs = []
        for T in (engine, torch):
            ts = [T.tensor([1, 0], dtype=getattr(T, d if d != "bool" else "bool"))
                  for d in dtypes]
            outs.append(getattr(T, op)(ts))
        assert str(outs[0].dtype) == str(outs[1].dtype), op
        np.testing.assert_array_equal(outs[0].numpy(), outs[1].numpy())
