"""engine.distributions against torch.distributions: log_prob, entropy, cdf, moments and
their gradients in the parameters (float32 and float64, broadcast batch shapes), shapes and
dtypes of samples, sample statistics, rsample values and gradients with both libraries fed
the same draws, expand, validation errors, and graph node names."""

import math

import numpy as np
import pytest
import torch

import engine
from _dist_parity import as_lib, close, np_of, same_draws, tol

R = np.random.default_rng(7)


def real(*shape):
    return R.standard_normal(shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def unit(*shape):
    return R.uniform(0.1, 0.9, shape)


def simplex(*shape):
    a = R.uniform(0.1, 1.0, shape)
    return a / a.sum(-1, keepdims=True)


def ints(k, *shape):
    return R.integers(0, k, shape).astype(np.float64)


def onehot(k, *shape):
    return np.eye(k)[R.integers(0, k, shape)]


# name: (build(D, *params), parameter arrays, a value array in the support, params' names)
CASES = {
    "Normal": (lambda D, a, b: D.Normal(a, b), [real(3, 4), pos(4)], real(2, 3, 4)),
    "Normal-scalar-scale": (lambda D, a: D.Normal(a, 2.0), [real(5)], real(5)),
    "Uniform": (lambda D, a, b: D.Uniform(a, a + b), [real(3), pos(3)], None),
    "Exponential": (lambda D, r: D.Exponential(r), [pos(2, 3)], pos(4, 2, 3)),
    "Laplace": (lambda D, a, b: D.Laplace(a, b), [real(4), pos(3, 1)], real(3, 4)),
    "Bernoulli-probs": (lambda D, p: D.Bernoulli(probs=p), [unit(6)], ints(2, 6)),
    "Bernoulli-logits": (lambda D, x: D.Bernoulli(logits=x), [real(2, 3)], ints(2, 5, 2, 3)),
    "Categorical-probs": (lambda D, p: D.Categorical(probs=p), [simplex(3, 5)], ints(5, 4, 3)),
    "Categorical-logits": (lambda D, x: D.Categorical(logits=x), [real(2, 4)], ints(4, 2)),
    "OneHotCategorical": (lambda D, x: D.OneHotCategorical(logits=x), [real(3, 4)],
                          onehot(4, 2, 3)),
    "Independent-Normal": (lambda D, a, b: D.Independent(D.Normal(a, b), 1), [real(3, 4),
                                                                             pos(3, 4)],
                           real(3, 4)),
}
UNIFORM_VALUE = None


def _build(T, name, dtype, grad=True):
    build, arrays, value = CASES[name]
    params = [as_lib(T, a.astype(dtype), grad) for a in arrays]
    d = build(T.distributions, *params)
    if value is None:           # inside [low, high)
        low, width = arrays[0], arrays[1]
        value = low + width * R.uniform(0.05, 0.95, (2,) + low.shape)
        CASES[name] = (build, arrays, value)
    return d, params, as_lib(T, value.astype(dtype))


def _evaluate(T, name, dtype, weights):
    """log_prob and entropy with their gradients in every parameter (``weights`` the
    upstream gradient of log_prob)."""
    d, params, value = _build(T, name, dtype)
    lp, ent = d.log_prob(value), d.entropy()
    out = {"log_prob": lp, "entropy": ent}
    for what, t, w in (("log_prob", lp, weights), ("entropy", ent, None)):
        w = np.ones(tuple(t.shape), dtype) if w is None else w
        if t.requires_grad:
            out["d " + what] = T.autograd.grad((t * T.tensor(w)).sum(), params,
                                               retain_graph=True, allow_unused=True)
    return d, out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_entropy_and_grads_match_torch(name, dtype):
    ref_d, _, value = _build(torch, name, dtype)   # (fixes the Uniform value for both)
    w = R.standard_normal(tuple(ref_d.log_prob(value).shape)).astype(dtype)
    d, ours = _evaluate(engine, name, dtype, w)
    ref_d, ref = _evaluate(torch, name, dtype, w)
    assert tuple(d.batch_shape) == tuple(ref_d.batch_shape)
    assert tuple(d.event_shape) == tuple(ref_d.event_shape)
    assert sorted(ours) == sorted(ref)
    for what in ("log_prob", "entropy"):
        close(ours[what], ref[what], what, **tol(dtype))
    for what in [k for k in ref if k.startswith("d ")]:
        for i, (a, b) in enumerate(zip(ours[what], ref[what])):
            assert (a is None) == (b is None), f"{what} / param {i}: None mismatch"
            if b is not None:
                close(a, b, f"{what} / param {i}", **tol(dtype))


@pytest.mark.parametrize("name", sorted(CASES))
def test_moments_match_torch(name):
    ours, _, _ = _build(engine, name, np.float64, grad=False)
    ref, _, _ = _build(torch, name, np.float64, grad=False)
    for what in ("mean", "variance", "stddev", "mode"):
        try:
            b = getattr(ref, what)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(ours, what)
            continue
        close(getattr(ours, what), b, what, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace",
                                  "Bernoulli-logits", "Categorical-probs"])
def test_cdf_and_perplexity_match_torch(name):
    ours, _, v1 = _build(engine, name, np.float64)
    ref, _, v2 = _build(torch, name, np.float64)
    close(ours.perplexity(), ref.perplexity(), "perplexity", rtol=1e-12)
    try:
        b = ref.cdf(v2)
    except NotImplementedError:
        return
    close(ours.cdf(v1), b, "cdf", rtol=1e-12, atol=1e-12)
    if name in ("Uniform", "Exponential", "Laplace"):
        u = R.uniform(0.05, 0.95, tuple(v2.shape))
        close(ours.icdf(engine.tensor(u)), ref.icdf(torch.tensor(u)), "icdf", rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shapes_dtypes_and_support(name):
    d, _, _ = _build(engine, name, np.float32, grad=False)
    ref, _, _ = _build(torch, name, np.float32, grad=False)
    for shape in [(), (7,), (2, 3)]:
        s, t = d.sample(shape), ref.sample(shape)
        assert tuple(s.shape) == tuple(t.shape) and s.dtype.itemsize == t.dtype.itemsize
        assert str(s.dtype) == str(t.dtype) and not s.requires_grad
        assert bool(d.support.check(s).all())
    assert d.has_rsample == ref.has_rsample


STATS = {
    "Normal": lambda D: D.Normal(engine.tensor([0.5, -2.0]), engine.tensor([1.0, 0.3])),
    "Uniform": lambda D: D.Uniform(engine.tensor([-1.0, 2.0]), engine.tensor([3.0, 2.5])),
    "Exponential": lambda D: D.Exponential(engine.tensor([0.5, 4.0])),
    "Laplace": lambda D: D.Laplace(engine.tensor([1.0, -1.0]), engine.tensor([0.5, 2.0])),
    "Bernoulli": lambda D: D.Bernoulli(probs=engine.tensor([0.1, 0.7])),
    "Categorical": lambda D: D.Categorical(probs=engine.tensor([[0.2, 0.5, 0.3],
                                                                 [0.9, 0.05, 0.05]])),
    "OneHotCategorical": lambda D: D.OneHotCategorical(probs=engine.tensor([0.6, 0.1, 0.3])),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_sample_statistics(name):
    """Means (and variances) of 40,000 draws within 5 standard errors of the exact ones."""
    engine.manual_seed(3)
    d = STATS[name](engine.distributions)
    n = 40000
    s = np_of(d.sample((n,))).astype(np.float64)
    if name == "Categorical":
        probs = np_of(d.probs)
        freq = np.stack([(s == k).mean(0) for k in range(3)], -1)
        se = np.sqrt(probs * (1 - probs) / n)
        assert np.all(np.abs(freq - probs) < 5 * se + 1e-12)
        return
    mean, var = np_of(d.mean).astype(np.float64), np_of(d.variance).astype(np.float64)
    assert np.all(np.abs(s.mean(0) - mean) < 5 * np.sqrt(var / n))
    fourth = np.mean((s - mean) ** 4, 0)
    assert np.all(np.abs(s.var(0) - var) < 5 * np.sqrt((fourth - var ** 2) / n) + 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", ["Normal", "Normal-scalar-scale", "Uniform",
                                  "Independent-Normal"])
def test_rsample_values_and_grads_match_torch_on_the_same_draws(name, dtype):
    outs = {}
    for T in (engine, torch):
        with same_draws(11):
            d, params, _ = _build(T, name, dtype)
            x = d.rsample((5,))
        loss = (x * x).sum()
        g = (torch if T is torch else engine).autograd.grad(loss, params)
        outs[T.__name__] = x, g
    (xe, ge), (xt, gt) = outs["engine"], outs["torch"]
    close(xe, xt, "rsample", **tol(dtype))
    assert xe.requires_grad
    for a, b in zip(ge, gt):
        close(a, b, "rsample grad", **tol(dtype))


@pytest.mark.parametrize("name", ["Categorical-logits", "OneHotCategorical", "Bernoulli-probs"])
def test_discrete_samples_equal_torch_on_the_same_draws(name):
    got = {}
    for T in (engine, torch):
        with same_draws(5):
            d, _, _ = _build(T, name, np.float32, grad=False)
            got[T.__name__] = np_of(d.sample((6, 2)))
    np.testing.assert_array_equal(got["engine"], got["torch"])


def test_rsample_is_a_reparameterisation():
    loc = engine.tensor([0.3, -1.0], requires_grad=True)
    scale = engine.tensor([2.0, 0.5], requires_grad=True)
    engine.manual_seed(0)
    x = engine.distributions.Normal(loc, scale).rsample((1000,))
    x.sum().backward()
    eps = (np_of(x) - np_of(loc)) / np_of(scale)
    np.testing.assert_allclose(np_of(loc.grad), [1000, 1000])
    np.testing.assert_allclose(np_of(scale.grad), eps.sum(0), rtol=1e-4)
    s = engine.distributions.Normal(loc, scale).sample((3,))
    assert s.grad_fn is None and not s.requires_grad


def test_graph_node_names_match_torch():
    names = {}
    for T in (engine, torch):
        loc = T.zeros(3, requires_grad=True)
        logits = T.zeros(2, 4, requires_grad=True)
        n = T.distributions.Normal(loc, T.ones(3))
        c = T.distributions.Categorical(logits=logits)
        names[T.__name__] = [type(t.grad_fn).__name__ for t in (
            n.log_prob(T.ones(3)), n.entropy(), n.rsample(), c.log_prob(T.tensor([0, 3])),
            c.entropy(), c.logits, T.distributions.Bernoulli(logits=logits).log_prob(
                T.ones(2, 4)))]
    assert names["engine"] == names["torch"]


@pytest.mark.parametrize("name", ["Normal", "Categorical-logits", "Bernoulli-probs",
                                  "OneHotCategorical", "Independent-Normal"])
def test_expand_matches_torch(name):
    ours, _, _ = _build(engine, name, np.float64, grad=False)
    ref, _, _ = _build(torch, name, np.float64, grad=False)
    shape = (2,) + tuple(ref.batch_shape)
    e, t = ours.expand(shape), ref.expand(shape)
    assert tuple(e.batch_shape) == tuple(t.batch_shape)
    assert tuple(e.event_shape) == tuple(t.event_shape)
    assert tuple(e.sample().shape) == tuple(t.sample().shape)
    close(e.entropy(), t.entropy(), "expanded entropy", rtol=1e-12)


BAD = [
    lambda D, T: D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, -1.0])),
    lambda D, T: D.Normal(0.0, 0.0),
    lambda D, T: D.Exponential(T.tensor([-1.0])),
    lambda D, T: D.Bernoulli(probs=T.tensor([0.5, 1.5])),
    lambda D, T: D.Bernoulli(probs=0.3, logits=0.1),
    lambda D, T: D.Categorical(probs=T.tensor([0.5, -0.2, 0.7])),
    lambda D, T: D.Categorical(probs=T.tensor(0.3)),
    lambda D, T: D.Categorical(logits=T.tensor(1.0)),
    lambda D, T: D.Uniform(2.0, 1.0),
    lambda D, T: D.Laplace(T.tensor([0.0]), T.tensor([0.0])),
    lambda D, T: D.Normal(0.0, 1.0).log_prob(1.0),
    lambda D, T: D.Normal(T.zeros(3), 1.0).log_prob(T.zeros(2)),
    lambda D, T: D.Exponential(2.0).log_prob(T.tensor([-1.0])),
    lambda D, T: D.Categorical(logits=T.zeros(4)).log_prob(T.tensor([4])),
    lambda D, T: D.Bernoulli(probs=0.5).log_prob(T.tensor([0.5])),
    lambda D, T: D.OneHotCategorical(logits=T.zeros(3)).log_prob(T.tensor([1.0, 1.0, 0.0])),
    lambda D, T: D.Independent(D.Normal(T.zeros(3), 1.0), 2),
    lambda D, T: D.Uniform(0.0, 1.0).log_prob(T.tensor([1.5])),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_validation_errors_are_torchs(i):
    with pytest.raises(ValueError) as theirs:
        BAD[i](torch.distributions, torch)
    with pytest.raises(ValueError) as ours:
        BAD[i](engine.distributions, engine)
    assert str(ours.value) == str(theirs.value)


def test_validate_args_false_and_default_switch():
    d = engine.distributions.Normal(0.0, -1.0, validate_args=False)
    assert math.isnan(float(d.log_prob(engine.tensor(0.0))))
    try:
        engine.distributions.Distribution.set_default_validate_args(False)
        engine.distributions.Exponential(-1.0)
    finally:
        engine.distributions.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        engine.distributions.Exponential(-1.0)


def test_lazy_parametrisations_and_repr():
    c = engine.distributions.Categorical(logits=engine.tensor([0.0, math.log(3.0)]))
    assert "probs" not in c.__dict__
    assert repr(c) == repr(torch.distributions.Categorical(logits=torch.tensor(
        [0.0, math.log(3.0)]))) == "Categorical(logits: torch.Size([2]))"
    np.testing.assert_allclose(np_of(c.probs), [0.25, 0.75], rtol=1e-6)
    assert "probs" in c.__dict__
    assert repr(engine.distributions.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(engine.distributions.Independent(engine.distributions.Normal(
        engine.zeros(2), 1.0), 1)) == "Independent(Normal(loc: torch.Size([2]), scale: " \
        "torch.Size([2])), 1)"


def test_enumerate_support_matches_torch():
    for build in (lambda D, T: D.Categorical(logits=T.zeros(2, 3)),
                  lambda D, T: D.Bernoulli(probs=T.full((2,), 0.3)),
                  lambda D, T: D.OneHotCategorical(probs=T.full((2, 3), 1 / 3))):
        for expand in (True, False):
            a = build(engine.distributions, engine).enumerate_support(expand)
            b = build(torch.distributions, torch).enumerate_support(expand)
            close(a, b, "enumerate_support", rtol=0, atol=0)
