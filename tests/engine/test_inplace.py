"""In-place ops: version counter, leaf protection, views sharing versions, no_grad writes."""

import pytest

import engine


def test_version_counter_bumps_and_is_shared_by_views():
    x = engine.zeros(4)
    v = x[1:]
    assert x._version == 0
    x.add_(1)
    assert x._version == 1 and v._version == 1
    v.mul_(2)
    assert x._version == 2 and x.tolist() == [1.0, 2.0, 2.0, 2.0]
    x[0] = 5
    assert v._version == 3


def test_leaf_requiring_grad_refuses_inplace_outside_no_grad():
    w = engine.ones(2, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.fill_(1),
               lambda: w.clamp_(0, 1), lambda: w.copy_(engine.zeros(2))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation."):
            op()
    with engine.no_grad():
        w.add_(1)
        w -= 0.5
    assert w.tolist() == [1.5, 1.5] and w.is_leaf and w.requires_grad


def test_augmented_assignment_keeps_identity():
    x = engine.ones(2)
    y = x
    x += 1
    x *= 3
    x -= 1
    x /= 5
    assert y is x and x.tolist() == [1.0, 1.0]


def test_inplace_on_non_leaf_rebases_history():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    h.add_(1)
    assert h.grad_fn.name() == "AddBackward0" and h._version == 1
    h.mul_(h.detach().clone())      # (3a + 1) * c
    h.sum().backward()
    assert a.grad.tolist() == [12.0, 21.0]


def test_inplace_on_detached_alias_invalidates_saved_tensor_like_torch():
    a = engine.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    h.mul_(h.detach())               # the detached alias shares h's version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()


def test_int_tensor_inplace_type_rules():
    i = engine.tensor([1, 2])
    i += 2
    i *= 2
    assert i.tolist() == [6, 8] and i.dtype is engine.int64
    f = engine.tensor([1.0, 2.0])
    f += engine.tensor([1, 1])
    assert f.dtype is engine.float32 and f.tolist() == [2.0, 3.0]


def test_zero_fill_copy_values():
    x = engine.arange(4).float()
    x.zero_()
    assert x.tolist() == [0.0] * 4
    x.fill_(2.5)
    assert x.tolist() == [2.5] * 4
    x.copy_(engine.tensor([1.0, 2.0, 3.0, 4.0]))
    assert x.tolist() == [1.0, 2.0, 3.0, 4.0]
    x.copy_(engine.tensor(7.0))
    assert x.tolist() == [7.0] * 4
    x.clamp_(max=5)
    assert x.tolist() == [5.0] * 4


def test_grad_zero_in_training_loop_style():
    w = engine.tensor([1.0], requires_grad=True)
    (w * 3).sum().backward()
    g = w.grad
    w.grad.zero_()
    (w * 2).sum().backward()
    assert w.grad is g and w.grad.item() == 2.0


def _view_inplace_cases(T):
    a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = a * 1
    v = h[1:]
    v.mul_(2)                          # changes h through the view
    out1 = (h * T.tensor([1.0, 10.0, 100.0])).sum()
    b = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    g = b * 1
    g[0] += b[1]                       # x[i] += y: in-place on a view, then setitem
    c = T.tensor([0.5, 1.5], requires_grad=True)
    z = T.zeros(2, 2)
    z[1].copy_(c)                      # a base that needed no grad starts needing it
    out = out1 + (g * g).sum() + (z * 3).sum()
    out.backward()
    return a.grad, b.grad, c.grad


def test_inplace_on_a_view_updates_the_base_gradient_like_torch():
    import torch
    ours = _view_inplace_cases(engine)
    theirs = _view_inplace_cases(torch)
    for o, t in zip(ours, theirs):
        assert o.tolist() == t.tolist()


def test_inplace_on_a_view_of_a_leaf_is_refused():
    w = engine.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation."):
        w[1:].add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        w[0] = 5.0
    assert w.tolist() == [1.0, 1.0, 1.0]


def _view_op_cases(T):
    a = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    h = a * 1
    h.t().mul_(2)[0].add_(1)           # transpose view, then an index view of it
    h.view(3, 2)[1:].mul_(h.detach()[0, :2].reshape(1, 2) + 1)
    q = h[1]
    q.sub_(a[0] * 2)
    u = h.unsqueeze(0)
    u.squeeze_(0)
    loss = (h * T.arange(6.0).reshape(2, 3)).sum()
    loss.backward()
    return a.grad


def test_inplace_through_view_ops_matches_torch():
    import torch
    assert _view_op_cases(engine).tolist() == _view_op_cases(torch).tolist()


def test_inplace_on_transposed_leaf_is_refused():
    a = engine.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        a.t().mul_(2)


def test_inplace_on_expanded_tensor_errors():
    x = engine.ones(1, 3, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        x.expand(4, 3).mul_(2)
