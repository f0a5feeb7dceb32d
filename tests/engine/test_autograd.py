"""backward / autograd.grad / accumulation / hooks / grad modes / execution order, and the
PyTorch tutorial examples, run with ``import engine as torch``."""

import threading

import numpy as np
import pytest
import torch as real_torch

import engine
import engine as torch  # the tutorial code below reads as PyTorch code


# ------------------------------------------------------------------ tutorial examples
def test_tutorial_mean_of_square_gives_4_5():
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    assert repr(out) == "tensor(27., grad_fn=<MeanBackward0>)"
    out.backward()
    assert x.grad.tolist() == [[4.5, 4.5], [4.5, 4.5]]


def test_tutorial_linear_regression_with_manual_updates():
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 50).reshape(50, 1)
    y = 3 * x + 0.5
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.5
    for _ in range(200):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
    assert abs(w.item() - 3) < 1e-3 and abs(b.item() - 0.5) < 1e-3
    assert w.is_leaf and w.grad_fn is None and w.requires_grad


def test_tutorial_scalar_w_x_plus_b():
    x = torch.tensor(1.0, requires_grad=True)
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    y = w * x + b
    y.backward()
    assert (x.grad.item(), w.grad.item(), b.grad.item()) == (2.0, 1.0, 1.0)


def test_tutorial_second_derivative_with_create_graph():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 3
    (dy,) = torch.autograd.grad(y, x, create_graph=True)
    assert dy.item() == 27.0 and dy.requires_grad
    (d2y,) = torch.autograd.grad(dy, x, retain_graph=True)
    assert d2y.item() == 18.0
    dy.backward()
    assert x.grad.item() == 18.0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        dy.backward()


# ------------------------------------------------------------------ backward arguments
def test_backward_with_gradient_argument():
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.backward(engine.tensor([1.0, 0.1, 0.01]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.2, 0.02], rtol=1e-6)


def test_gradients_accumulate_into_grad():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])


def test_grad_buffer_is_not_aliased_to_a_flowing_gradient():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = engine.tensor([1.0, 1.0], requires_grad=True)
    s = x + y
    s.sum().backward()
    x.grad += 1  # must not change y.grad
    assert y.grad.tolist() == [1.0, 1.0]


def test_second_backward_raises_pytorch_error_and_retain_graph_allows_it():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_inputs_restricts_accumulation():
    a = engine.tensor([1.0], requires_grad=True)
    b = engine.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * b).sum().backward(inputs=[])


def test_backward_inputs_non_leaf_gets_grad():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [6.0, 12.0] and a.grad is None


def test_autograd_backward_function_with_several_roots():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    engine.autograd.backward([a * 2, (a * a).sum()], [engine.ones(2), None])
    assert a.grad.tolist() == [4.0, 6.0]


def test_autograd_grad_returns_without_accumulating():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    b = engine.tensor([3.0], requires_grad=True)
    out = (a * b).sum()
    ga, gb = engine.autograd.grad(out, (a, b))
    assert ga.tolist() == [3.0, 3.0] and gb.tolist() == [3.0]
    assert a.grad is None and b.grad is None


def test_autograd_grad_allow_unused():
    a = engine.tensor([1.0], requires_grad=True)
    unused = engine.tensor([1.0], requires_grad=True)
    out = (a * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        engine.autograd.grad(out, [a, unused], retain_graph=True)
    ga, gu = engine.autograd.grad(out, [a, unused], allow_unused=True)
    assert ga.item() == 2.0 and gu is None


def test_autograd_grad_of_intermediate():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    h = a.exp()
    out = (h * 2).sum()
    (gh,) = engine.autograd.grad(out, h)
    assert gh.tolist() == [2.0, 2.0]


def test_autograd_grad_grad_outputs():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    (g,) = engine.autograd.grad(a * a, a, grad_outputs=engine.tensor([1.0, -1.0]))
    assert g.tolist() == [2.0, -4.0]


def test_create_graph_backward_keeps_grad_graph():
    x = engine.tensor([2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    x.grad = None
    g.sum().backward()
    assert x.grad.item() == 12.0


def test_non_scalar_backward_error():
    x = engine.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()


def test_backward_on_tensor_without_grad_error():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does "
                                           "not have a grad_fn"):
        engine.ones(1).sum().backward()


def test_stale_saved_tensor_error_text():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1
    y = h.exp()                    # saves its result
    y.add_(1)                      # modifies it
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    msg = str(e.value)
    assert "one of the variables needed for gradient computation has been modified by an " \
           "inplace operation: [torch.FloatTensor [2]], which is output 0 of Exp, is " \
           "at version 1; expected version 0 instead." in msg


def test_stale_saved_input_error():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1
    y = h.sin()                    # saves its input h
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    # torch agrees
    ta = real_torch.tensor([1.0, 2.0], requires_grad=True)
    th = ta * 1
    ty = th.sin()
    th.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()


# ------------------------------------------------------------------ hooks
def test_tensor_hook_sees_and_replaces_grad():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 3
    h = y.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    y.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [30.0, 30.0]
    h.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_leaf_hook_runs_before_accumulation():
    x = engine.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 2)
    (x * 5).sum().backward()
    assert x.grad.item() == 10.0


def test_retain_grad():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    assert h.grad.tolist() == [4.0, 8.0]
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None


def test_post_accumulate_grad_hook():
    x = engine.tensor([1.0], requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.item()))
    (x * 4).sum().backward()
    (x * 4).sum().backward()
    assert seen == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on "
                                           "non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_node_hook_and_prehook():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    calls = []
    y.grad_fn.register_prehook(lambda go: calls.append(("pre", go[0].tolist())))
    y.grad_fn.register_hook(lambda gi, go: calls.append(("post", gi[0].tolist(), go[0].tolist())))
    y.sum().backward()
    assert calls == [("pre", [1.0, 1.0]), ("post", [2.0, 2.0], [1.0, 1.0])]


def test_node_hook_can_replace_grad_inputs():
    x = engine.tensor([1.0], requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 0, None))
    y.sum().backward()
    assert x.grad.item() == 0.0


def test_hook_on_tensor_not_requiring_grad_errors():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        engine.ones(1).register_hook(lambda g: g)


# ------------------------------------------------------------------ grad modes
def test_grad_mode_context_managers_and_decorators():
    x = engine.ones(1, requires_grad=True)
    with engine.no_grad():
        assert not engine.is_grad_enabled() and not (x * 2).requires_grad
        with engine.enable_grad():
            assert (x * 2).requires_grad
    assert engine.is_grad_enabled()

    @engine.no_grad()
    def f():
        return x * 2

    @engine.no_grad
    def f2():
        return x * 2

    @engine.enable_grad()
    def g():
        return x * 2

    assert not f().requires_grad and not f2().requires_grad
    with engine.no_grad():
        assert g().requires_grad
    with engine.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert engine.is_grad_enabled()
    engine.set_grad_enabled(False)
    assert not engine.is_grad_enabled()
    engine.set_grad_enabled(True)

    @engine.set_grad_enabled(False)
    def h():
        return x * 2

    assert not h().requires_grad and engine.is_grad_enabled()
    with engine.inference_mode():
        assert not (x * 2).requires_grad
    with engine.inference_mode(False):
        assert (x * 2).requires_grad

    @engine.inference_mode()
    def k():
        return x * 2

    assert not k().requires_grad
    assert engine.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with engine.no_grad():
            raise ValueError
    assert engine.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    started, release = threading.Event(), threading.Event()

    def worker():
        seen.append(engine.is_grad_enabled())
        started.set()
        release.wait(5)

    with engine.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        started.wait(5)
        release.set()
        t.join(5)
    assert seen == [True]


# ------------------------------------------------------------------ execution order
def _diamond(T, order):
    x = T.tensor([0.5, 1.5], requires_grad=True)
    a = x.exp()
    b = x.sin()
    c = a * 2
    d = b.cos() * a
    e = (c + d).sum()
    nodes = {"a": a.grad_fn, "b": b.grad_fn, "c": c.grad_fn, "d": d.grad_fn,
             "dcos": d.grad_fn.next_functions[0][0], "e": e.grad_fn,
             "add": e.grad_fn.next_functions[0][0],
             "acc": a.grad_fn.next_functions[0][0]}
    for name, n in nodes.items():
        n.register_prehook(lambda go, name=name: order.append(name))
    e.backward()
    return x.grad


def test_execution_order_matches_torch_on_diamond():
    ours, theirs = [], []
    g = _diamond(engine, ours)
    tg = _diamond(real_torch, theirs)
    assert ours == theirs
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-6)


def test_execution_order_matches_torch_on_shared_weights():
    def run(T, order):
        w = T.tensor([[0.5, -0.2], [0.1, 0.3]], requires_grad=True)
        h = T.tensor([1.0, 2.0])
        outs = []
        for _ in range(3):
            h = (w @ h).tanh()
            outs.append(h.sum())
        loss = outs[0] + outs[1] * 2 + outs[2] * 3
        seen = set()
        stack = [loss.grad_fn]
        while stack:
            n = stack.pop()
            if n is None or n in seen:
                continue
            seen.add(n)
            n.register_prehook(lambda go, n=n: order.append(type(n).__name__))
            stack.extend(m for m, _ in n.next_functions)
        loss.backward()
        return w.grad

    a, b = [], []
    g1, g2 = run(engine, a), run(real_torch, b)
    assert a == b
    np.testing.assert_allclose(g1.numpy(), g2.numpy(), rtol=1e-5)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_grad_is_a_writable_copy_like_torch():
    for T in (engine, real_torch):
        x = T.tensor([2.0, 3.0], requires_grad=True)
        (x * 1).sum().backward(create_graph=True)
        assert x.grad.grad_fn is None
        x.grad.zero_()                         # a real buffer, not a broadcast view
        x.grad = None
        (x ** 3).sum().backward(create_graph=True)
        assert type(x.grad.grad_fn).__name__ == "CopyBackwards"
        x.grad = None
