"""nn.init in full against torch.nn.init: every gain, fans of every rank, modes, error and
warning texts, deprecated aliases; and the distributions themselves: trunc_normal_ against
the truncated normal's CDF and moments (both of PyTorch's sampling regimes), orthogonal_
(orthogonality, Haar-like statistics), sparse_ (zeros per column), dirac_ / eye_ equal to
torch's, and generators that make draws repeatable."""

import math
import warnings

import numpy as np
import pytest
import torch

import engine
from engine.nn import init


def a_of(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _both(fn):
    """``fn(lib)`` on torch and on the engine: the same exception type and text, or the
    same warnings and result."""
    out = []
    for T in (torch, engine):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                r = ("ok", fn(T))
            except Exception as e:  # noqa: BLE001 - compared with torch's
                r = (type(e).__name__, str(e))
        out.append((r, [(x.category.__name__, str(x.message)) for x in w]))
    return out


GAINS = [("linear",), ("conv1d",), ("conv2d",), ("conv3d",), ("conv_transpose1d",),
         ("conv_transpose2d",), ("conv_transpose3d",), ("sigmoid",), ("tanh",), ("relu",),
         ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",),
         ("leaky_relu", True), ("leaky_relu", "0.1"), ("gelu",)]


@pytest.mark.parametrize("args", GAINS, ids=[str(a) for a in GAINS])
def test_calculate_gain_values_and_errors_match_torch(args):
    (t, _), (e, _) = _both(lambda T: T.nn.init.calculate_gain(*args))
    assert t[0] == e[0]
    if t[0] == "ok":
        assert e[1] == pytest.approx(t[1], rel=1e-15)
    else:
        assert e[1] == t[1]


@pytest.mark.parametrize("shape", [(5,), (4, 3), (6, 2, 5), (6, 2, 5, 3), (2, 3, 1, 4, 2),
                                   (0, 3)])
def test_fans_and_their_errors_match_torch(shape):
    (t, _), (e, _) = _both(lambda T: T.nn.init._calculate_fan_in_and_fan_out(T.empty(*shape)))
    assert t == e


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT", "fan_avg"])
@pytest.mark.parametrize("fn", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_modes_match_torch(fn, mode):
    (t, _), (e, _) = _both(lambda T: getattr(T.nn.init, fn)(T.empty(40, 30, 3), mode=mode,
                                                            nonlinearity="relu").std().item())
    assert t[0] == e[0]
    if t[0] == "ok":
        assert e[1] == pytest.approx(t[1], rel=0.1)
    else:
        assert e[1] == t[1]


@pytest.mark.parametrize("call", [
    lambda T: T.nn.init.kaiming_uniform_(T.empty(0, 3)),
    lambda T: T.nn.init.kaiming_normal_(T.empty(3, 0)),
    lambda T: T.nn.init.eye_(T.empty(2, 3, 4)),
    lambda T: T.nn.init.dirac_(T.empty(3, 3)),
    lambda T: T.nn.init.dirac_(T.empty(3, 2, 3), groups=2),
    lambda T: T.nn.init.orthogonal_(T.empty(4)),
    lambda T: T.nn.init.sparse_(T.empty(2, 3, 4), 0.5),
    lambda T: T.nn.init.xavier_normal_(T.empty(3)),
    lambda T: T.nn.init.trunc_normal_(T.empty(50), mean=5.0, std=1.0, a=-1.0, b=1.0).max(),
    lambda T: T.nn.init.uniform(T.empty(2)),
    lambda T: T.nn.init.eye(T.empty(2, 2)),
    lambda T: T.nn.init.dirac(T.empty(2, 2, 3)),
    lambda T: T.nn.init.sparse(T.empty(4, 2), 0.5),
    lambda T: T.nn.init.xavier_uniform(T.empty(4, 2)),
])
def test_errors_and_warnings_match_torch(call):
    (t, tw), (e, ew) = _both(call)
    assert t[0] == e[0] and tw == ew
    if t[0] != "ok":
        assert e[1] == t[1]


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((6, 3, 3, 5), 3), ((4, 4, 3, 3, 3), 2),
                                          ((2, 5, 4, 4), 1)])
def test_dirac_and_eye_equal_torch(shape, groups):
    e, t = engine.empty(*shape), torch.empty(*shape)
    np.testing.assert_array_equal(a_of(init.dirac_(e, groups)),
                                  torch.nn.init.dirac_(t, groups).numpy())
    for s in [(3, 5), (5, 3), (4, 4)]:
        np.testing.assert_array_equal(a_of(init.eye_(engine.empty(*s))),
                                      torch.nn.init.eye_(torch.empty(*s)).numpy())


def _trunc_cdf(x, mean, std, a, b):
    phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    lo, hi = phi((a - mean) / std), phi((b - mean) / std)
    return np.array([(phi((v - mean) / std) - lo) / (hi - lo) for v in x])


def _trunc_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    z = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    m = mean + std * (pdf(alpha) - pdf(beta)) / z
    v = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z
                    - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    return m, v


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0),      # normal proposals
                                          (0.5, 2.0, -1.0, 3.0),
                                          (0.0, 1.0, 1.5, 4.0),       # uniform proposals
                                          (1.0, 0.5, -3.0, -0.5),
                                          (0.0, 0.02, -2.0, 2.0)])
@pytest.mark.parametrize("dtype", [engine.float32, engine.float64])
def test_trunc_normal_follows_the_truncated_normal(mean, std, a, b, dtype):
    engine.manual_seed(0)
    n = 40000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = a_of(init.trunc_normal_(engine.empty(200, 200, dtype=dtype), mean, std, a, b))
    assert x.min() >= a and x.max() <= b
    xs = np.sort(x.ravel())[:: max(1, x.size // 2000)]
    ks = np.max(np.abs(_trunc_cdf(xs, mean, std, a, b) - (np.searchsorted(
        np.sort(x.ravel()), xs, side="right") / x.size)))
    assert ks < 1.63 / math.sqrt(n) * 2           # far inside the 1% KS bound
    m, v = _trunc_moments(mean, std, a, b)
    assert abs(x.mean() - m) < 5 * math.sqrt(v / x.size)
    assert abs(x.var() - v) < 0.03 * v


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 2, 2, 2), (2, 12)])
def test_orthogonal_is_orthogonal_and_random(shape):
    engine.manual_seed(1)
    w = a_of(init.orthogonal_(engine.empty(*shape), gain=1.5)).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 2.25 * np.eye(min(rows, cols)), atol=1e-5)
    samples = np.stack([a_of(init.orthogonal_(engine.empty(4, 4))) for _ in range(400)])
    assert abs(samples.mean()) < 0.03                  # Haar: entries centred, variance 1/n
    assert abs(samples.var() - 0.25) < 0.02
    assert abs(np.mean(np.linalg.det(samples))) < 0.2  # both orientations
    z = engine.empty(0, 3)
    assert init.orthogonal_(z) is z


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.99])
def test_sparse_zeros_per_column(sparsity):
    engine.manual_seed(2)
    w = a_of(init.sparse_(engine.empty(50, 300), sparsity, std=0.2))
    zeros = (w == 0).sum(0)
    assert np.all(zeros == math.ceil(sparsity * 50))
    nz = w[w != 0]
    if nz.size > 1000:
        assert abs(nz.std() - 0.2) < 0.01 and abs(nz.mean()) < 0.01
    if 0 < zeros[0] < 50:                   # the zeros sit in different rows per column
        assert len({tuple(np.flatnonzero(c == 0)) for c in w.T}) > 250


@pytest.mark.parametrize("fn,args", [("xavier_uniform_", dict(gain=2.0)),
                                     ("xavier_normal_", dict(gain=0.5)),
                                     ("kaiming_uniform_", dict(a=0.3, mode="fan_out")),
                                     ("kaiming_normal_", dict(nonlinearity="tanh")),
                                     ("uniform_", dict(a=-0.2, b=0.6)),
                                     ("normal_", dict(mean=1.0, std=0.3))])
def test_standard_deviations_match_torchs(fn, args):
    """The same spread as torch on a conv weight (fans of a 4-d tensor)."""
    shape = (64, 32, 3, 3)
    ours = a_of(getattr(init, fn)(engine.empty(*shape), **args))
    ref = getattr(torch.nn.init, fn)(torch.empty(*shape), **args).numpy()
    assert ours.std() == pytest.approx(ref.std(), rel=0.02)
    assert ours.mean() == pytest.approx(float(ref.mean()), abs=0.02 * float(ref.std()) + 0.01)
    if "uniform" in fn:
        assert ours.min() >= ref.min() - 1e-3 * abs(ref.min()) and ours.max() <= ref.max() * 1.001


@pytest.mark.parametrize("fn,args", [("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()),
                                     ("xavier_uniform_", ()), ("kaiming_normal_", ()),
                                     ("orthogonal_", ()), ("sparse_", (0.3,))])
def test_generator_makes_draws_repeatable(fn, args):
    g1, g2 = engine.Generator().manual_seed(5), engine.Generator().manual_seed(5)
    a = a_of(getattr(init, fn)(engine.empty(8, 6), *args, generator=g1))
    b = a_of(getattr(init, fn)(engine.empty(8, 6), *args, generator=g2))
    np.testing.assert_array_equal(a, b)
    c = a_of(getattr(init, fn)(engine.empty(8, 6), *args, generator=g1))
    assert not np.array_equal(a, c)


def test_private_no_grad_helpers_exist_like_torchs():
    w = engine.empty(3, 4, requires_grad=True)
    for name, args in [("_no_grad_uniform_", (-1, 1)), ("_no_grad_normal_", (0, 1)),
                       ("_no_grad_trunc_normal_", (0, 1, -1, 1)), ("_no_grad_fill_", (2.0,)),
                       ("_no_grad_zero_", ())]:
        assert hasattr(torch.nn.init, name)
        assert getattr(init, name)(w, *args) is w and w.grad_fn is None
    assert np.all(a_of(w) == 0)
