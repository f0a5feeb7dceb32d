"""kl_divergence against torch's for every registered pair: values (finite and infinite),
gradients in both distributions' parameters, the registry's dispatch (most specific pair,
ambiguity warning, missing pair error) and the Bregman fallback for exponential families."""

import math
import warnings

import numpy as np
import pytest
import torch

import engine
from _dist_parity import close, np_of, tol

R = np.random.default_rng(3)


def _params(shapes):
    """Parameter arrays: ``r`` real, ``p`` positive, ``u`` in (0, 1), ``s`` simplex rows."""
    out = []
    for kind, shape in shapes:
        if kind == "r":
            out.append(R.standard_normal(shape))
        elif kind == "p":
            out.append(R.uniform(0.5, 2.0, shape))
        elif kind == "u":
            out.append(R.uniform(0.1, 0.9, shape))
        else:
            a = R.uniform(0.1, 1.0, shape)
            out.append(a / a.sum(-1, keepdims=True))
    return out


D = {  # builder(D, *params), parameter kinds and shapes
    "Normal": (lambda D, a, b: D.Normal(a, b), [("r", (3,)), ("p", (3,))]),
    "Laplace": (lambda D, a, b: D.Laplace(a, b), [("r", (3,)), ("p", (3,))]),
    "Exponential": (lambda D, r: D.Exponential(r), [("p", (3,))]),
    "Uniform": (lambda D, a, b: D.Uniform(a, a + b), [("r", (3,)), ("p", (3,))]),
    "Bernoulli": (lambda D, p: D.Bernoulli(probs=p), [("u", (3,))]),
    "Bernoulli-logits": (lambda D, x: D.Bernoulli(logits=x), [("r", (3,))]),
    "Categorical": (lambda D, p: D.Categorical(probs=p), [("s", (3, 4))]),
    "Categorical-logits": (lambda D, x: D.Categorical(logits=x), [("r", (3, 4))]),
    "OneHotCategorical": (lambda D, x: D.OneHotCategorical(logits=x), [("r", (3, 4))]),
    "Independent": (lambda D, a, b: D.Independent(D.Normal(a, b), 1), [("r", (3, 2)),
                                                                        ("p", (3, 2))]),
}
PAIRS = [("Normal", "Normal"), ("Laplace", "Laplace"), ("Exponential", "Exponential"),
         ("Uniform", "Uniform"), ("Bernoulli", "Bernoulli"), ("Bernoulli-logits", "Bernoulli"),
         ("Categorical", "Categorical-logits"), ("Categorical-logits", "Categorical"),
         ("OneHotCategorical", "OneHotCategorical"), ("Independent", "Independent"),
         ("Exponential", "Normal"), ("Laplace", "Normal"), ("Normal", "Laplace"),
         ("Uniform", "Exponential"), ("Uniform", "Normal"), ("Exponential", "Uniform"),
         ("Laplace", "Exponential"), ("Laplace", "Uniform"), ("Normal", "Exponential"),
         ("Normal", "Uniform")]


def _kl(T, p_name, q_name, arrays, dtype):
    bp, _ = D[p_name]
    bq, _ = D[q_name]
    n = len(D[p_name][1])
    params = [T.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    p = bp(T.distributions, *params[:n])
    q = bq(T.distributions, *params[n:])
    kl = T.distributions.kl_divergence(p, q)
    finite = np.isfinite(np_of(kl))
    grads = None
    if kl.requires_grad and finite.any():
        mask = T.tensor(finite.astype(dtype))
        grads = T.autograd.grad((T.where(mask > 0, kl, T.zeros_like(kl)) * mask).sum(),
                                params, allow_unused=True)
    return kl, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("p_name,q_name", PAIRS, ids=[f"{a}|{b}" for a, b in PAIRS])
def test_kl_matches_torch(p_name, q_name, dtype):
    arrays = _params(D[p_name][1] + D[q_name][1])
    if p_name == "Uniform" and q_name == "Uniform":
        arrays[2][0] = arrays[0][0] - 0.5      # q covers p in the first entry: finite KL
        arrays[3][0] = arrays[1][0] + 1.0
    if p_name == "Uniform" and q_name == "Exponential":
        arrays[0] = np.abs(arrays[0]) * np.array([1, -1, 1])    # one low below 0: inf
    ours, ge = _kl(engine, p_name, q_name, arrays, dtype)
    ref, gt = _kl(torch, p_name, q_name, arrays, dtype)
    close(ours, ref, "kl", **tol(dtype))
    assert (ge is None) == (gt is None)
    for i, (a, b) in enumerate(zip(ge or (), gt or ())):
        assert (a is None) == (b is None), f"grad {i}: None mismatch"
        if b is not None:
            close(a, b, f"d kl / param {i}", **tol(dtype))


def test_kl_of_a_distribution_with_itself_is_zero():
    for name in ("Normal", "Laplace", "Exponential", "Categorical", "Bernoulli"):
        b, kinds = D[name]
        d = b(engine.distributions, *[engine.tensor(a) for a in _params(kinds)])
        np.testing.assert_allclose(np_of(engine.distributions.kl_divergence(d, d)), 0,
                                   atol=1e-6)


def test_bregman_fallback_for_exponential_families_matches_closed_form():
    from engine.distributions.kl import _kl_expfamily_expfamily
    Dn = engine.distributions
    for p, q in [(Dn.Normal(engine.tensor([0.3, -1.0]), engine.tensor([1.5, 0.4])),
                  Dn.Normal(engine.tensor([1.0, 0.0]), engine.tensor([0.7, 2.0]))),
                 (Dn.Exponential(engine.tensor([0.5, 3.0])),
                  Dn.Exponential(engine.tensor([2.0, 1.0]))),
                 (Dn.Bernoulli(probs=engine.tensor([0.2, 0.6])),
                  Dn.Bernoulli(probs=engine.tensor([0.5, 0.9])))]:
        np.testing.assert_allclose(np_of(_kl_expfamily_expfamily(p, q)),
                                   np_of(Dn.kl_divergence(p, q)), rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        _kl_expfamily_expfamily(Dn.Normal(0.0, 1.0), Dn.Exponential(1.0))


def test_exponential_family_entropy_by_bregman_matches_closed_form():
    from engine.distributions.exp_family import ExponentialFamily
    d = engine.distributions.Normal(engine.tensor([0.0, 2.0]), engine.tensor([0.5, 3.0]))
    np.testing.assert_allclose(np_of(ExponentialFamily.entropy(d)), np_of(d.entropy()),
                               rtol=1e-5)


def _dispatch_story(T):
    """Register two overlapping pairs for subclasses, look up three pairs: the values and
    warnings PyTorch's dispatch gives."""
    Dn = T.distributions

    class MyNormal(Dn.Normal):
        pass

    class MyLaplace(Dn.Laplace):
        pass

    p = MyNormal(0.0, 1.0)
    out = [float(Dn.kl_divergence(p, Dn.Normal(1.0, 1.0)))]   # Normal-Normal applies
    Dn.register_kl(MyNormal, Dn.Distribution)(lambda p, q: T.tensor(1.0))
    Dn.register_kl(Dn.Distribution, MyLaplace)(lambda p, q: T.tensor(2.0))
    kl = Dn.kl if T is engine else torch.distributions.kl
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out += [float(Dn.kl_divergence(p, q)) for q in (MyLaplace(0.0, 1.0),
                                                             Dn.Normal(0.0, 1.0),
                                                             Dn.Uniform(0.0, 1.0))]
        out += [str(w.message) for w in caught if w.category is RuntimeWarning]
    finally:
        del kl._KL_REGISTRY[MyNormal, Dn.Distribution]
        del kl._KL_REGISTRY[Dn.Distribution, MyLaplace]
        kl._KL_MEMOIZE.clear()
    return out


def test_registry_dispatch_and_ambiguity_warnings_match_torch():
    ours = _dispatch_story(engine)
    assert ours == _dispatch_story(torch)
    assert ours[0] == 0.5 and "Ambiguous kl_divergence(MyNormal, MyLaplace). Please " \
        "register_kl(MyNormal, MyLaplace)" in ours
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for "
                                                  "p type Exponential and q type Laplace"):
        engine.distributions.kl_divergence(engine.distributions.Exponential(1.0),
                                           engine.distributions.Laplace(0.0, 1.0))


def test_infinite_kl_where_support_is_not_covered():
    Dn = engine.distributions
    assert math.isinf(float(Dn.kl_divergence(Dn.Normal(0.0, 1.0), Dn.Uniform(-1.0, 1.0))))
    kl = Dn.kl_divergence(Dn.Uniform(engine.tensor([0.0, 0.0]), engine.tensor([1.0, 3.0])),
                          Dn.Uniform(engine.tensor([-1.0, -1.0]), engine.tensor([2.0, 2.0])))
    assert math.isfinite(float(kl[0])) and math.isinf(float(kl[1]))
