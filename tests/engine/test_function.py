"""Custom ``engine.autograd.Function``: ctx API, graph name, once_differentiable."""

import numpy as np
import pytest
import torch as real_torch

import engine
from engine.autograd import Function


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        r = x.exp()
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return g * r


class ScaleShift(Function):
    """Two tensor inputs and a non-tensor argument; records needs_input_grad."""

    @staticmethod
    def forward(ctx, x, y, k):
        ctx.save_for_backward(x, y)
        ctx.k = k
        ctx.seen_needs = ctx.needs_input_grad
        return x * y * k

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g * y * ctx.k if ctx.needs_input_grad[0] else None
        gy = g * x * ctx.k if ctx.needs_input_grad[1] else None
        return gx, gy, None


class SortWithIndex(Function):
    @staticmethod
    def forward(ctx, x):
        idx = engine.tensor(np.argsort(x.detach().numpy()))
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return x[idx], idx

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        out = engine.zeros_like(g)
        out[idx] = g
        return out


def test_custom_function_forward_backward_and_name():
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward" and type(y.grad_fn).__name__ == "ExpBackward"
    assert repr(y).endswith("grad_fn=<ExpBackward>)")
    assert y.grad_fn.next_functions[0][0].variable is x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)


def test_custom_function_name_matches_torch():
    class Exp(real_torch.autograd.Function):  # noqa: F811 - same name on purpose
        @staticmethod
        def forward(ctx, x):
            return x.exp()

        @staticmethod
        def backward(ctx, g):
            return g

    t = Exp.apply(real_torch.ones(1, requires_grad=True))
    assert type(t.grad_fn).__name__ == "ExpBackward"


def test_needs_input_grad_and_non_tensor_args():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = engine.tensor([3.0, 4.0])
    out = ScaleShift.apply(x, y, 2.0)
    assert out.grad_fn.seen_needs == (True, False, False)
    assert [nf[0] is None for nf in out.grad_fn.next_functions] == [False, True, True]
    out.sum().backward()
    assert x.grad.tolist() == [6.0, 8.0]


def test_mark_non_differentiable_and_multiple_outputs():
    x = engine.tensor([3.0, 1.0, 2.0], requires_grad=True)
    vals, idx = SortWithIndex.apply(x)
    assert vals.requires_grad and not idx.requires_grad
    assert vals.tolist() == [1.0, 2.0, 3.0]
    (vals * engine.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_saved_tensors_freed_after_backward():
    x = engine.tensor([1.0], requires_grad=True)
    y = Exp.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.grad_fn.saved_tensors


def test_custom_function_without_grad_builds_no_node():
    x = engine.tensor([1.0])
    assert Exp.apply(x).grad_fn is None
    with engine.no_grad():
        assert Exp.apply(engine.ones(1, requires_grad=True)).grad_fn is None


def test_wrong_number_of_gradients_errors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    a = engine.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        Bad.apply(a, a).sum().backward()


def test_double_backward_through_custom_function():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = engine.tensor([2.0], requires_grad=True)
    (g,) = engine.autograd.grad(Cube.apply(x), x, create_graph=True)
    (gg,) = engine.autograd.grad(g, x)
    assert g.item() == 12.0 and gg.item() == 12.0
