"""nn.utils.parametrize and parametrizations (weight_norm, spectral_norm) and the old
weight_norm, against torch: class swap, state_dict names (torch's load into ours), forward
values, gradients of the originals, graph node names, assignment through right_inverse,
caching, removal, and error texts; plus the clipping and vector helpers against torch."""

import math
import warnings

import numpy as np
import pytest
import torch

import engine
from engine.nn.utils import parametrizations as P
from engine.nn.utils import parametrize

R = np.random.default_rng(2)


def np_of(t):
    return np.asarray(t.detach().numpy())


def _load_from_torch(ours, ref):
    ours.load_state_dict({k: engine.tensor(v.detach().numpy().copy())
                          for k, v in ref.state_dict().items()})


def _pair(make, fn, *args, **kw):
    """The same layer on both libraries, parametrized by ``fn``, with torch's weights."""
    ref = getattr(torch.nn.utils.parametrizations, fn)(make(torch.nn), *args, **kw)
    ours = getattr(P, fn)(make(engine.nn), *args, **kw)
    _load_from_torch(ours, ref)
    return ours, ref


def _forward_backward(m, T, x):
    out = m(T.tensor(x))
    (out * T.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape))
                    .astype(x.dtype))).sum().backward()
    return out


LAYERS = {
    "linear": (lambda nn: nn.Linear(5, 4), (3, 5)),
    "conv": (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 6, 6)),
}


@pytest.mark.parametrize("layer,dim", [(layer, d) for layer in sorted(LAYERS)
                                       for d in (0, 1, None, -1) + ((2,) if layer == "conv"
                                                                    else ())])
def test_weight_norm_matches_torch(layer, dim):
    make, shape = LAYERS[layer]
    ours, ref = _pair(make, "weight_norm", dim=dim)
    assert type(ours).__name__ == type(ref).__name__
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours.parametrizations.weight.original0.shape == ref.parametrizations.weight.original0.shape
    np.testing.assert_allclose(np_of(ours.weight), ref.weight.detach().numpy(), rtol=1e-6,
                               atol=1e-7)
    assert type(ours.weight.grad_fn).__name__ == type(ref.weight.grad_fn).__name__
    x = R.standard_normal(shape).astype(np.float32)
    a, b = _forward_backward(ours, engine, x), _forward_backward(ref, torch, x)
    np.testing.assert_allclose(np_of(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(np_of(p.grad), q.grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("dim", [0, 1])
def test_weight_norm_node_is_twice_differentiable(dim):
    v = engine.tensor(R.standard_normal((3, 4)), requires_grad=True)
    g = engine.tensor(R.uniform(0.5, 2, (3, 1) if dim == 0 else (1, 4)), requires_grad=True)
    fn = lambda v, g: P._weight_norm(v, g, dim)  # noqa: E731
    assert engine.autograd.gradcheck(fn, (v, g))
    assert engine.autograd.gradgradcheck(fn, (v, g))


def test_weight_norm_assignment_and_removal():
    m = P.weight_norm(engine.nn.Linear(3, 2))
    w = engine.tensor(R.standard_normal((2, 3)).astype(np.float32))
    m.weight = w                                         # through right_inverse: (||w||, w)
    np.testing.assert_allclose(np_of(m.weight), np_of(w), rtol=1e-6)
    np.testing.assert_allclose(np_of(m.parametrizations.weight.original0),
                               np.linalg.norm(np_of(w), axis=1, keepdims=True), rtol=1e-6)
    parametrize.remove_parametrizations(m, "weight")
    assert type(m) is engine.nn.Linear and not parametrize.is_parametrized(m)
    assert isinstance(m.weight, engine.nn.Parameter)
    assert list(m.state_dict()) == ["bias", "weight"]           # re-registered last, as torch
    np.testing.assert_allclose(np_of(m.weight), np_of(w), rtol=1e-6)
    m2 = P.weight_norm(engine.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        parametrize.remove_parametrizations(m2, "weight", leave_parametrized=False)


def test_old_weight_norm_matches_torch_and_its_state_dict_loads_into_the_new_one():
    with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
        ours = engine.nn.utils.weight_norm(engine.nn.Linear(4, 3), dim=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3), dim=0)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["bias", "weight_g",
                                                                 "weight_v"]
    _load_from_torch(ours, ref)
    x = R.standard_normal((2, 4)).astype(np.float32)
    a, b = _forward_backward(ours, engine, x), _forward_backward(ref, torch, x)
    np.testing.assert_allclose(np_of(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_of(ours.weight_g.grad), ref.weight_g.grad.numpy(), rtol=1e-5)
    new = P.weight_norm(engine.nn.Linear(4, 3))
    _load_from_torch(new, ref)                         # weight_g / weight_v keys, converted
    np.testing.assert_allclose(np_of(new.weight), ref.weight.detach().numpy(), rtol=1e-6)
    engine.nn.utils.remove_weight_norm(ours)
    assert list(ours.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        engine.nn.utils.remove_weight_norm(ours)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("make,shape,kw", [
    (lambda nn: nn.Linear(5, 4), (3, 5), {}),
    (lambda nn: nn.Conv2d(2, 3, 3), (1, 2, 5, 5), dict(n_power_iterations=2)),
    (lambda nn: nn.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4), {}),
])
def test_spectral_norm_matches_torch(make, shape, kw, train):
    ours, ref = _pair(make, "spectral_norm", **kw)
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.train(train)
    ref.train(train)
    x = R.standard_normal(shape).astype(np.float32)
    for _ in range(2):                        # power iterations advance in training mode
        for m in (ours, ref):
            m.zero_grad()
        a, b = _forward_backward(ours, engine, x), _forward_backward(ref, torch, x)
        np.testing.assert_allclose(np_of(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np_of(ours.parametrizations.weight[0]._u),
                                   ref.parametrizations.weight[0]._u.numpy(), rtol=1e-5,
                                   atol=1e-6)
        for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(np_of(p.grad), q.grad.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=name)
    sigma = np.linalg.svd(np_of(ours.weight).reshape(np_of(ours.weight).shape[0], -1)
                          if not isinstance(ours, engine.nn.ConvTranspose2d) else
                          np_of(ours.weight).transpose(1, 0, 2, 3).reshape(3, -1),
                          compute_uv=False)[0]
    assert abs(sigma - 1) < 0.05


class Scale(engine.nn.Module):
    """A toy parametrization: twice the original, invertible."""

    def forward(self, x):
        return 2 * x

    def right_inverse(self, y):
        return y / 2


class TorchScale(torch.nn.Module):
    def forward(self, x):
        return 2 * x

    def right_inverse(self, y):
        return y / 2


class Plus(engine.nn.Module):
    def forward(self, x):
        return x + 1


def test_register_chain_cache_and_remove():
    m = engine.nn.Linear(3, 2)
    w0 = np_of(m.weight).copy()
    parametrize.register_parametrization(m, "weight", Scale())
    assert parametrize.is_parametrized(m) and parametrize.is_parametrized(m, "weight")
    assert not parametrize.is_parametrized(m, "bias")
    assert parametrize.type_before_parametrizations(m) is engine.nn.Linear
    np.testing.assert_allclose(np_of(m.parametrizations.weight.original), w0 / 2, rtol=1e-6)
    np.testing.assert_allclose(np_of(m.weight), w0, rtol=1e-6)   # right_inverse at register
    parametrize.register_parametrization(m, "weight", Plus())
    np.testing.assert_allclose(np_of(m.weight), w0 + 1, rtol=1e-6)
    calls = []
    m.parametrizations.weight[1].register_forward_hook(lambda *a: calls.append(1))
    with parametrize.cached():
        a, b = m.weight, m.weight
        assert a is b and len(calls) == 1
    assert m.weight is not m.weight and len(calls) == 3
    with pytest.raises(RuntimeError, match="parametrization Plus does not implement "
                                           "right_inverse"):
        m.weight = engine.zeros(2, 3)
    loss = m(engine.ones(1, 3)).sum()
    loss.backward()
    np.testing.assert_allclose(np_of(m.parametrizations.weight.original.grad),
                               2 * np.ones((2, 3)))
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(np_of(m.weight), w0 / 2, rtol=1e-6)
    assert type(m) is engine.nn.Linear
    other = engine.nn.Linear(3, 2)
    assert not hasattr(type(other), "weight")          # the property lived on a subclass


def test_state_dict_keys_and_loading_match_torch():
    ours = parametrize.register_parametrization(engine.nn.Linear(3, 2), "weight", Scale())
    ref = torch.nn.utils.parametrize.register_parametrization(torch.nn.Linear(3, 2), "weight",
                                                              TorchScale())
    assert list(ours.state_dict()) == list(ref.state_dict())
    _load_from_torch(ours, ref)
    np.testing.assert_allclose(np_of(ours.weight), ref.weight.detach().numpy(), rtol=1e-6)
    assert repr(ours).replace("Scale", "X") == repr(ref).replace("TorchScale", "X")


class Widen(engine.nn.Module):
    def forward(self, x):
        return engine.cat([x, x], 0)


class TorchWiden(torch.nn.Module):
    def forward(self, x):
        return torch.cat([x, x], 0)


ERRORS = [
    lambda T, W: T.nn.utils.parametrize.register_parametrization(T.nn.Linear(3, 2), "weight",
                                                                 W()),
    lambda T, W: T.nn.utils.parametrize.register_parametrization(T.nn.Linear(3, 2), "nope",
                                                                 W()),
    lambda T, W: T.nn.utils.parametrize.remove_parametrizations(T.nn.Linear(3, 2), "weight"),
    lambda T, W: T.nn.utils.parametrizations.spectral_norm(T.nn.Linear(3, 2), dim=3),
    lambda T, W: T.nn.utils.parametrizations.spectral_norm(T.nn.Linear(3, 2),
                                                           n_power_iterations=0),
    lambda T, W: T.nn.utils.parametrizations.spectral_norm(T.nn.Linear(3, 2), name="w"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_are_torchs(i):
    with pytest.raises(Exception) as theirs:
        ERRORS[i](torch, TorchWiden)
    with pytest.raises(Exception) as ours:
        ERRORS[i](engine, Widen)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_parametrized_module_refuses_pickling_and_deepcopies():
    import copy
    import pickle
    m = P.weight_norm(engine.nn.Linear(3, 2))
    with pytest.raises((RuntimeError, TypeError)):
        pickle.dumps(m)
    c = copy.deepcopy(m)
    np.testing.assert_allclose(np_of(c.weight), np_of(m.weight))
    assert c.parametrizations.weight.original1 is not m.parametrizations.weight.original1


# ---------------------------------------------------- clipping and vectors vs torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0, 0.0])
def test_total_norm_and_clipping_match_torch(norm_type):
    grads = [R.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 2, 2)]]
    res = {}
    for T in (engine, torch):
        ps = [T.zeros(*g.shape, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = T.tensor(g.copy())
        total = T.nn.utils.get_total_norm([p.grad for p in ps], norm_type)
        T.nn.utils.clip_grads_with_norm_(ps, 0.5, total)
        before = float(total)
        for p, g in zip(ps, grads):
            p.grad = T.tensor(g.copy())
        T.nn.utils.clip_grad_value_(ps, 0.3, foreach=None)
        res[T.__name__] = before, [np_of(p.grad) for p in ps]
    assert res["engine"][0] == pytest.approx(res["torch"][0], rel=1e-5)
    for a, b in zip(res["engine"][1], res["torch"][1]):
        np.testing.assert_allclose(a, b)


def test_vector_round_trip_matches_torch():
    ours, ref = engine.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    _load_from_torch(ours, ref)
    v, w = engine.nn.utils.parameters_to_vector(ours.parameters()), \
        torch.nn.utils.parameters_to_vector(ref.parameters())
    np.testing.assert_allclose(np_of(v), w.detach().numpy())
    new = np.arange(8, dtype=np.float32)
    engine.nn.utils.vector_to_parameters(engine.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), ref.parameters())
    for p, q in zip(ours.parameters(), ref.parameters()):
        np.testing.assert_array_equal(np_of(p), q.detach().numpy())


# ----------------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
@pytest.mark.parametrize("orth_map", [None, "householder", "matrix_exp"])
def test_orthogonal_matches_torch(shape, orth_map):
    def make(nn):
        return nn.Linear(shape[1], shape[0])
    ours, ref = _pair(make, "orthogonal", orthogonal_map=orth_map)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours.parametrizations.weight[0].orthogonal_map == \
        ref.parametrizations.weight[0].orthogonal_map.name
    off = 1 - np.eye(*shape)   # move off the trivial point; the diagonal stays -1 (the
    with torch.no_grad():       # Householder map takes its integer part, as PyTorch)
        ref.parametrizations.weight.original.add_(torch.tensor(
            (R.standard_normal(shape) * off).astype(np.float32) * 0.3))
    _load_from_torch(ours, ref)
    w, v = ours.weight, ref.weight
    np.testing.assert_allclose(np_of(w), v.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert type(w.grad_fn).__name__ == type(v.grad_fn).__name__
    m = np_of(w).astype(np.float64)
    gram = m @ m.T if shape[0] <= shape[1] else m.T @ m
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)
    x = R.standard_normal((2, shape[1])).astype(np.float32)
    _forward_backward(ours, engine, x), _forward_backward(ref, torch, x)
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(np_of(p.grad), q.grad.numpy(), rtol=1e-4, atol=2e-5,
                                   err_msg=name)


def test_orthogonal_assignment_and_errors_match_torch():
    m = P.orthogonal(engine.nn.Linear(3, 3))
    q = np.linalg.qr(R.standard_normal((3, 3)))[0].astype(np.float32)
    m.weight = engine.tensor(q)
    np.testing.assert_allclose(np_of(m.weight), q, atol=1e-5)
    m2 = P.orthogonal(engine.nn.Linear(3, 5), use_trivialization=False)
    q2 = np.linalg.qr(R.standard_normal((5, 3)))[0].astype(np.float32)
    m2.weight = engine.tensor(q2)                   # Householder reflectors via geqrf
    np.testing.assert_allclose(np_of(m2.weight), q2, atol=1e-5)
    for call in (lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3), "bias"),
                 lambda T: T.nn.utils.parametrizations.orthogonal(T.nn.Linear(3, 3),
                                                                   orthogonal_map="qr"),
                 lambda T: setattr(T.nn.utils.parametrizations.orthogonal(
                     T.nn.Linear(3, 3), use_trivialization=False), "weight", T.eye(3))):
        with pytest.raises(Exception) as theirs:
            call(torch)
        with pytest.raises(Exception) as ours:
            call(engine)
        assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_matrix_exp_matches_torch_and_differentiates_twice(shape):
    from engine.nn.utils import _orthogonal_maps as maps
    a = R.standard_normal(shape) * 1.5
    np.testing.assert_allclose(np_of(maps.matrix_exp(engine.tensor(a))),
                               torch.linalg.matrix_exp(torch.tensor(a)).numpy(), rtol=1e-12,
                               atol=1e-12)
    x = engine.tensor(a * 0.5, requires_grad=True)
    assert type(maps.matrix_exp(x).grad_fn).__name__ == "LinalgMatrixExpBackward0"
    assert engine.autograd.gradcheck(maps.matrix_exp, (x,))
    assert engine.autograd.gradgradcheck(maps.matrix_exp, (x,))


def test_householder_product_matches_torch():
    from engine.nn.utils import _orthogonal_maps as maps
    a, tau = R.standard_normal((5, 3)), R.uniform(0.5, 1.5, 3)
    g = R.standard_normal((5, 3))
    ae, te = engine.tensor(a, requires_grad=True), engine.tensor(tau, requires_grad=True)
    at, tt = torch.tensor(a, requires_grad=True), torch.tensor(tau, requires_grad=True)
    qe, qt = maps.householder_product(ae, te), torch.linalg.householder_product(at, tt)
    np.testing.assert_allclose(np_of(qe), qt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (qe * engine.tensor(g)).sum().backward()
    (qt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(np_of(ae.grad), at.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_of(te.grad), tt.grad.numpy(), rtol=1e-10, atol=1e-12)
