"""No graph outlives its loss: after many forward/backward iterations, refcounting alone
(with the cyclic GC disabled) frees every node and intermediate tensor."""

import gc
import weakref

import engine


def _step(w, b, x, refs):
    h = (x @ w + b).relu()
    out = h.sigmoid() * h
    loss = (out - 1).pow(2).mean()
    refs.append(weakref.ref(loss.grad_fn))
    refs.append(weakref.ref(h.grad_fn))
    refs.append(weakref.ref(h))
    refs.append(weakref.ref(out))
    loss.backward()
    return loss.item()


def test_graphs_freed_by_refcounting_after_1000_iterations():
    w = engine.randn(4, 3, requires_grad=True)
    b = engine.zeros(3, requires_grad=True)
    x = engine.randn(5, 4)
    refs = []
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(1000):
            _step(w, b, x, refs)
            with engine.no_grad():
                w -= 0.01 * w.grad
                w.grad.zero_()
                b.grad = None
        alive = [r for r in refs if r() is not None]
        assert alive == [], f"{len(alive)} graph objects still alive without gc"
    finally:
        if was:
            gc.enable()


def test_retained_graph_is_freed_when_loss_dropped():
    gc.disable()
    try:
        x = engine.randn(3, requires_grad=True)
        loss = (x.exp() * x).sum()
        node = weakref.ref(loss.grad_fn)
        loss.backward(retain_graph=True)
        assert node() is not None
        del loss
        assert node() is None
    finally:
        gc.enable()


def test_create_graph_grad_does_not_leak():
    gc.disable()
    try:
        refs = []
        x = engine.randn(3, requires_grad=True)
        for _ in range(50):
            y = (x ** 3).sum()
            (g,) = engine.autograd.grad(y, x, create_graph=True)
            refs.append(weakref.ref(g.grad_fn))
            g.sum().backward()
        del y, g
        assert [r for r in refs if r() is not None] == []
    finally:
        gc.enable()


def test_leaf_accumulate_grad_node_not_kept_by_leaf():
    gc.disable()
    try:
        x = engine.randn(2, requires_grad=True)
        acc = weakref.ref((x * 2).grad_fn.next_functions[0][0])
        assert acc() is None            # the leaf holds it weakly, as PyTorch does
    finally:
        gc.enable()
