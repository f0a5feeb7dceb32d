"""KLDivLoss, CosineSimilarity, PairwiseDistance, CosineEmbeddingLoss, MarginRankingLoss,
TripletMarginLoss, GaussianNLLLoss, PoissonNLLLoss, MultiLabelSoftMarginLoss and
SoftMarginLoss against torch: values, gradients and the grad_fn DAG node for node (float32
and float64) in every reduction, gradcheck and second derivatives in float64, modules and
error texts."""

import warnings

import numpy as np
import pytest
import torch

import engine
from _fn_parity import (fn_parity, gradcheck64, gradgrad_parity, module_parity_dtype,
                        raises_like_torch)

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]


def F(T):
    return T.nn.functional


def logp(*shape):
    x = rng.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def probs(*shape):
    return np.exp(logp(*shape))


def signs(n):
    return np.where(rng.random(n) < 0.5, -1.0, 1.0)


def _kl(reduction, log_target=False):
    def fn(T, x, t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return F(T).kl_div(x, t, reduction=reduction, log_target=log_target)
    return fn


CASES = [
    *[(f"kl_div_{r}", _kl(r), lambda: [logp(3, 5), probs(3, 5)], [0]) for r in
      ("none", "mean", "sum", "batchmean")],
    ("kl_div_target_grad", _kl("batchmean"), lambda: [logp(3, 5), probs(3, 5)], [0, 1]),
    ("kl_div_zero_target", _kl("sum"), lambda: [logp(2, 4), np.array([[0, .5, .5, 0.],
                                                                      [1, 0, 0, 0]])], [0]),
    ("kl_div_log_target", _kl("batchmean", True), lambda: [logp(3, 5), logp(3, 5)], [0, 1]),
    ("cosine_similarity", lambda T, a, b: F(T).cosine_similarity(a, b),
     lambda: [rng.standard_normal((4, 5)), rng.standard_normal((4, 5))], None),
    ("cosine_similarity_dim", lambda T, a, b: F(T).cosine_similarity(a, b, dim=-1, eps=1e-3),
     lambda: [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))], None),
    ("cosine_similarity_broadcast", lambda T, a, b: F(T).cosine_similarity(a, b),
     lambda: [rng.standard_normal((4, 5)), rng.standard_normal((1, 5))], None),
    ("pairwise_distance", lambda T, a, b: F(T).pairwise_distance(a, b),
     lambda: [rng.standard_normal((4, 5)), rng.standard_normal((4, 5))], None),
    ("pairwise_distance_p1_keepdim", lambda T, a, b: F(T).pairwise_distance(a, b, p=1,
                                                                            keepdim=True),
     lambda: [rng.standard_normal((4, 5)), rng.standard_normal((4, 5))], None),
    ("pairwise_distance_p3", lambda T, a, b: F(T).pairwise_distance(a, b, p=3.0),
     lambda: [rng.standard_normal((4, 5)), rng.standard_normal((5,))], None),
    *[(f"cosine_embedding_{r}", (lambda r: lambda T, a, b, y: F(T).cosine_embedding_loss(
        a, b, y, margin=0.2, reduction=r))(r),
       lambda: [rng.standard_normal((6, 4)), rng.standard_normal((6, 4)), signs(6)], [0, 1])
      for r in REDUCTIONS],
    ("cosine_embedding_0d", lambda T, a, b, y: F(T).cosine_embedding_loss(a, b, y),
     lambda: [rng.standard_normal(4), rng.standard_normal(4), np.array(-1.0)], [0, 1]),
    *[(f"margin_ranking_{r}", (lambda r: lambda T, a, b, y: F(T).margin_ranking_loss(
        a, b, y, margin=0.3, reduction=r))(r),
       lambda: [rng.standard_normal(6), rng.standard_normal(6), signs(6)], [0, 1])
      for r in REDUCTIONS],
    *[(f"triplet_{r}", (lambda r: lambda T, a, p, n: F(T).triplet_margin_loss(
        a, p, n, margin=1.5, reduction=r))(r),
       lambda: [rng.standard_normal((5, 4)) for _ in range(3)], None) for r in REDUCTIONS],
    ("triplet_swap_p1", lambda T, a, p, n: F(T).triplet_margin_loss(a, p, n, p=1, swap=True),
     lambda: [rng.standard_normal((5, 4)) for _ in range(3)], None),
    *[(f"gaussian_nll_{r}", (lambda r: lambda T, x, t, v: F(T).gaussian_nll_loss(
        x, t, v, reduction=r))(r),
       lambda: [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)),
                rng.random((4, 3)) + 0.1], None) for r in REDUCTIONS],
    ("gaussian_nll_full_homoscedastic", lambda T, x, t, v: F(T).gaussian_nll_loss(
        x, t, v, full=True), lambda: [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)),
                                      rng.random(4) + 0.1], None),
    ("gaussian_nll_clamped", lambda T, x, t, v: F(T).gaussian_nll_loss(x, t, v, eps=0.05),
     lambda: [rng.standard_normal((4, 3)), rng.standard_normal((4, 3)),
              rng.random((4, 1)) * 0.1], [0, 1]),   # torch: var's gradient ignores the clamp
    *[(f"poisson_nll_{r}", (lambda r: lambda T, x, t: F(T).poisson_nll_loss(
        x, t, reduction=r))(r), lambda: [rng.standard_normal((4, 3)), rng.random((4, 3)) * 3],
       [0]) for r in REDUCTIONS],
    ("poisson_nll_rate_full", lambda T, x, t: F(T).poisson_nll_loss(x, t, log_input=False,
                                                                     full=True),
     lambda: [rng.random((4, 3)) + 0.5, rng.random((4, 3)) * 4], [0]),
    *[(f"multilabel_soft_margin_{r}", (lambda r: lambda T, x, t: F(T).multilabel_soft_margin_loss(
        x, t, reduction=r))(r),
       lambda: [rng.standard_normal((4, 5)), (rng.random((4, 5)) > 0.5).astype(float)], [0])
      for r in REDUCTIONS],
    ("multilabel_soft_margin_weight", lambda T, x, t, w: F(T).multilabel_soft_margin_loss(
        x, t, weight=w), lambda: [rng.standard_normal((4, 5)),
                                  (rng.random((4, 5)) > 0.5).astype(float), rng.random(5)], [0]),
    *[(f"soft_margin_{r}", (lambda r: lambda T, x, y: F(T).soft_margin_loss(
        x, y, reduction=r))(r), lambda: [rng.standard_normal((4, 5)), signs(20).reshape(4, 5)],
       [0]) for r in REDUCTIONS],
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_parity(case, dtype):
    _, fn, arrays, grad = case
    fn_parity(fn, arrays(), dtype, grad=grad)


@pytest.mark.parametrize("case", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_gradcheck(case):
    _, fn, arrays, grad = case
    gradcheck64(fn, arrays(), grad=grad)


@pytest.mark.parametrize("name", ["kl_div_target_grad", "cosine_similarity",
                                  "pairwise_distance", "cosine_embedding_sum", "triplet_mean",
                                  "gaussian_nll_mean", "soft_margin_mean"])
def test_second_derivatives(name):
    _, fn, arrays, grad = next(c for c in CASES if c[0] == name)
    arrs = arrays()
    keep = grad if grad is not None else range(len(arrs))
    fixed = {i: a for i, a in enumerate(arrs) if i not in keep}

    def only_grad(T, *xs):
        it = iter(xs)
        full = [T.tensor(fixed[i]) if i in fixed else next(it) for i in range(len(arrs))]
        return fn(T, *full)
    gradgrad_parity(only_grad, [a for i, a in enumerate(arrs) if i in keep])


def test_kl_div_mean_warns_like_torch():
    for T in (torch, engine):
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F(T).kl_div(T.zeros(2, 3), T.ones(2, 3) / 3)


MODULES = [
    ("KLDivLoss", lambda nn: nn.KLDivLoss(reduction="batchmean"), [logp(3, 4), probs(3, 4)]),
    ("KLDivLoss_log", lambda nn: nn.KLDivLoss(reduction="sum", log_target=True),
     [logp(3, 4), logp(3, 4)]),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(dim=0), [rng.standard_normal((3, 4)),
                                                                 rng.standard_normal((3, 4))]),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(p=1.5, keepdim=True),
     [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]),
    ("TripletMarginLoss", lambda nn: nn.TripletMarginLoss(margin=2.0, swap=True),
     [rng.standard_normal((3, 4)) for _ in range(3)]),
    ("GaussianNLLLoss", lambda nn: nn.GaussianNLLLoss(full=True),
     [rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.random((3, 4)) + 0.2]),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_parity(case):
    _, build, arrays = case
    module_parity_dtype(build, arrays, np.float32)


@pytest.mark.parametrize("build,args", [
    (lambda nn: nn.CosineEmbeddingLoss(margin=0.1), lambda: [
        rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), signs(4)]),
    (lambda nn: nn.MarginRankingLoss(margin=0.5, reduction="sum"), lambda: [
        rng.standard_normal(4), rng.standard_normal(4), signs(4)]),
    (lambda nn: nn.PoissonNLLLoss(log_input=False, eps=1e-3), lambda: [
        rng.random((4, 3)) + 0.2, rng.random((4, 3)) * 3]),
    (lambda nn: nn.MultiLabelSoftMarginLoss(weight=None, reduction="none"), lambda: [
        rng.standard_normal((4, 3)), (rng.random((4, 3)) > .5).astype(float)]),
    (lambda nn: nn.SoftMarginLoss(), lambda: [rng.standard_normal((4, 3)),
                                              signs(12).reshape(4, 3)])])
def test_loss_modules_with_targets(build, args):
    arrays = [a.astype(np.float32) for a in args()]
    outs = []
    for T in (engine, torch):
        xs = [T.tensor(a.copy(), requires_grad=(i < 2 and build(T.nn).__class__.__name__
                                                in ("CosineEmbeddingLoss", "MarginRankingLoss"))
                       or i == 0) for i, a in enumerate(arrays)]
        m = build(T.nn)
        y = m(*xs)
        y.sum().backward()
        outs.append((y.detach().numpy(), xs[0].grad.numpy(), repr(m)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-6)
    assert outs[0][2] == outs[1][2]


def test_multilabel_weight_is_a_buffer():
    w = torch.rand(3)
    assert list(engine.nn.MultiLabelSoftMarginLoss(weight=engine.tensor(w.numpy()))
                .state_dict()) == list(torch.nn.MultiLabelSoftMarginLoss(weight=w).state_dict())


ERRORS = [
    (lambda T: F(T).cosine_embedding_loss(T.randn(2, 3), T.randn(2, 3), T.ones(2, 1)),
     RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
    (lambda T: F(T).cosine_embedding_loss(T.randn(2, 3), T.randn(2, 3, 1), T.ones(2)),
     RuntimeError, r"1D target tensor expects 2D input tensors, but found inputs with sizes "
                   r"\[2, 3\] and \[2, 3, 1\]."),
    (lambda T: F(T).margin_ranking_loss(T.randn(3), T.randn(3), T.ones(3, 1)), RuntimeError,
     r"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
     r"input1: torch.Size\(\[3\]\), input2: torch.Size\(\[3\]\), target: "
     r"torch.Size\(\[3, 1\]\)"),
    (lambda T: F(T).triplet_margin_loss(T.randn(2, 3), T.randn(2, 3), T.randn(3)),
     RuntimeError, "The anchor, positive, and negative tensors are expected to have the same "
                   "number of dimensions, but got: anchor 2D, positive 2D, and negative 1D"),
    (lambda T: F(T).gaussian_nll_loss(T.randn(2, 3), T.randn(2, 3), -T.ones(2, 3)),
     ValueError, "var has negative entry/entries"),
    (lambda T: F(T).gaussian_nll_loss(T.randn(2, 3), T.randn(2, 3), T.ones(3, 3)),
     ValueError, "var is of incorrect size"),
    (lambda T: F(T).gaussian_nll_loss(T.randn(2, 3), T.randn(2, 3), T.ones(2, 3),
                                      reduction="bogus"), ValueError, "bogus is not valid"),
    (lambda T: F(T).kl_div(T.randn(2, 3), T.randn(2, 3), reduction="bogus"), ValueError,
     "bogus is not a valid value for reduction"),
    (lambda T: F(T).poisson_nll_loss(T.randn(2, 3), T.randn(2, 3), reduction="bogus"),
     ValueError, "bogus is not a valid value for reduction"),
    (lambda T: F(T).multilabel_soft_margin_loss(T.randn(2, 3), T.ones(2, 3),
                                                reduction="bogus"),
     ValueError, "bogus is not valid"),
    (lambda T: F(T).soft_margin_loss(T.randn(2, 3), T.randn(2, 4)), RuntimeError,
     r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
     r"dimension 1"),
    (lambda T: F(T).pairwise_distance(T.randn(2, 3), T.randn(2, 4)), RuntimeError,
     r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
     r"dimension 1"),
    (lambda T: F(T).soft_margin_loss(T.randn(2, 3), T.randn(2, 3, requires_grad=True)),
     RuntimeError, "The function 'soft_margin_loss' is not differentiable with respect to "
                   "argument 'target'"),
    (lambda T: T.nn.TripletMarginLoss(margin=0), ValueError,
     "TripletMarginLoss: expected margin to be greater than 0, got 0 instead"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like_torch(*ERRORS[i])
