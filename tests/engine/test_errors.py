"""Errors carry PyTorch's messages: the same exception type and text as torch 2.13 for each
case (the text compared after torch's C++ backtrace, if any, is cut off)."""

import pytest
import torch

import engine


def _leaf(T, *shape):
    return T.ones(*shape, requires_grad=True)


def _inplace_leaf(T):
    x = _leaf(T, 2)
    x.add_(1)


def _second_backward(T):
    x = _leaf(T, 2)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _second_backward_scalar(T):
    x = _leaf(T, 2)
    y = (x * 2).sum()
    y.backward()
    y.backward()


def _setitem_leaf(T):
    x = _leaf(T, 2)
    x[0] = 1.0


def _grad_int(T):
    T.tensor([1, 2]).requires_grad_()


def _nonleaf_requires_grad_false(T):
    y = _leaf(T, 2) * 2
    y.requires_grad = False


def _grad_output_shape(T):
    x = _leaf(T, 2)
    T.autograd.grad(x * 2, [x], T.ones(3))


def _stale(T, which):
    a = T.tensor([1.0, 2.0], requires_grad=True)
    b = T.tensor([1.0, 2.0])
    h = a * 1
    if which == "output":
        y = h.exp()
        y.add_(1)
    elif which == "input":
        y = h.sin()
        h.add_(1)
        h.add_(1)
    else:
        y = a * b
        b.add_(1)
    y.sum().backward()


def _split_inplace(T, op):
    h = T.ones(2, 2, requires_grad=True) * 1
    getattr(h, op)(1)[1].mul_(2) if op == "split" else h.unbind()[1].mul_(2)


CASES = {
    "stale saved output": lambda T: _stale(T, "output"),
    "stale saved input": lambda T: _stale(T, "input"),
    "stale saved leaf": lambda T: _stale(T, "leaf"),
    "split output in-place": lambda T: _split_inplace(T, "split"),
    "unbind output in-place": lambda T: _split_inplace(T, "unbind"),
    "expanded in-place": lambda T: (T.ones(1, 3, requires_grad=True) * 1).expand(2, 3).mul_(2),
    "mm shapes": lambda T: T.ones(1, 1350) @ T.ones(576, 120),
    "matmul nd shapes": lambda T: T.ones(2, 3, 4) @ T.ones(5, 6),
    "bmm shapes": lambda T: T.bmm(T.ones(2, 3, 4), T.ones(2, 5, 6)),
    "matmul batch broadcast": lambda T: T.ones(2, 3, 4) @ T.ones(3, 4, 5),
    "matmul 0-d": lambda T: T.matmul(T.ones(()), T.ones(3)),
    "mv shapes": lambda T: T.mv(T.ones(2, 3), T.ones(4)),
    "dot shapes": lambda T: T.dot(T.ones(3), T.ones(4)),
    "mm dtypes": lambda T: T.mm(T.ones(2, 2), T.ones(2, 2, dtype=T.float64)),
    "mm 1-d": lambda T: T.mm(T.ones(2), T.ones(2, 2)),
    "broadcast add": lambda T: T.ones(2, 3) + T.ones(4),
    "broadcast mul 3d": lambda T: T.ones(2, 3, 4) * T.ones(5, 1),
    "broadcast where": lambda T: T.where(T.ones(2) > 0, T.ones(2), T.ones(3)),
    "non-scalar backward": lambda T: (_leaf(T, 2) * 2).backward(),
    "no grad_fn backward": lambda T: T.ones(2).sum().backward(),
    "in-place on leaf": _inplace_leaf,
    "setitem on leaf": _setitem_leaf,
    "second backward": _second_backward,
    "second backward scalar mul": _second_backward_scalar,
    "requires_grad int": _grad_int,
    "non-leaf requires_grad False": _nonleaf_requires_grad_false,
    "view non-contiguous": lambda T: T.ones(2, 3).t().view(6),
    "view bad size": lambda T: T.ones(2, 3).view(4),
    "reshape two -1": lambda T: T.ones(2, 3).reshape(-1, -1),
    "dim out of range": lambda T: T.ones(2, 3).sum(2),
    "index out of range": lambda T: T.ones(2, 3)[5],
    "too many indices": lambda T: T.ones(2)[0, 0],
    "cat sizes": lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]),
    "cat ndim": lambda T: T.cat([T.ones(2, 3), T.ones(3)]),
    "cat empty": lambda T: T.cat([]),
    "stack sizes": lambda T: T.stack([T.ones(2), T.ones(3)]),
    "expand": lambda T: T.ones(2, 3).expand(4, 3),
    "expand fewer dims": lambda T: T.ones(2, 3).expand(3),
    "item multi": lambda T: T.ones(2).item(),
    "numpy requires grad": lambda T: _leaf(T, 2).numpy(),
    "bool ambiguous": lambda T: bool(T.ones(2)),
    "sub bools": lambda T: T.tensor([True]) - T.tensor([False]),
    "neg bool": lambda T: -T.tensor([True]),
    "int negative power": lambda T: T.tensor([2]) ** -1,
    "mean of ints": lambda T: T.tensor([1, 2]).mean(),
    "permute length": lambda T: T.ones(2, 3).permute(0),
    "t of 3-d": lambda T: T.ones(2, 3, 4).t(),
    "clamp no bounds": lambda T: T.clamp(T.ones(2)),
    "split sizes": lambda T: T.ones(4).split([1, 2]),
    "chunk zero": lambda T: T.ones(4).chunk(0),
    "flatten dims": lambda T: T.ones(2, 3, 4).flatten(2, 1),
    "max empty": lambda T: T.ones(0).max(),
    "grad unused": lambda T: T.autograd.grad((_leaf(T, 1) * 2).sum(), [_leaf(T, 1)]),
    "grad no requires_grad": lambda T: T.autograd.grad(T.ones(1).sum(), [T.ones(1)]),
    "grad empty inputs": lambda T: T.autograd.grad(_leaf(T, 2).sum(), []),
    "grad_output shape": lambda T: _grad_output_shape(T),
    "grad input no requires_grad": lambda T: T.autograd.grad((_leaf(T, 1) * 2).sum(),
                                                             [_leaf(T, 1), T.ones(1)]),
    "post-acc hook non-leaf": lambda T: (_leaf(T, 1) * 2).register_post_accumulate_grad_hook(
        lambda t: None),
    "hook no grad": lambda T: T.ones(1).register_hook(lambda g: g),
    "int += float": lambda T: T.tensor([1, 2]).add_(0.5),
    "in-place broadcast": lambda T: T.ones(3).add_(T.ones(2, 3)),
    "masked_fill float mask": lambda T: T.ones(2).masked_fill(T.ones(2), 0.0),
    "fill_ with 1-d": lambda T: T.ones(2).fill_(T.ones(2)),
}

# Where our text legitimately differs (torch shows C++ internals or different phrasing we
# keep on purpose), the test checks the parts that matter instead of the full text.
PARTIAL = {
    "broadcast add": ["The size of tensor a (3) must match the size of tensor b (4) at "
                      "non-singleton dimension 1"],
    "broadcast mul 3d": ["The size of tensor a (3) must match the size of tensor b (5) at "
                         "non-singleton dimension 1"],
    "broadcast where": ["The size of tensor a (2) must match the size of tensor b (3) at "
                        "non-singleton dimension 0"],
    "grad_output shape": ["Mismatch in shape"],
    "int += float": ["result type Float can't be cast to the desired output type Long"],
}


def _error(fn, T):
    with pytest.raises(Exception) as e:
        fn(T)
    return e


def _first_lines(msg):
    msg = str(msg)
    return msg.split("\nException raised from")[0].strip()


@pytest.mark.parametrize("label", list(CASES))
def test_error_matches_torch(label):
    fn = CASES[label]
    ours = _error(fn, engine)
    theirs = _error(fn, torch)
    assert type(ours.value).__name__ == type(theirs.value).__name__ or (
        isinstance(ours.value, type(theirs.value))), (label, ours.value, theirs.value)
    o, t = _first_lines(ours.value), _first_lines(theirs.value)
    if label in PARTIAL:
        for part in PARTIAL[label]:
            assert part in o, f"{label}: {part!r} not in {o!r}"
            assert part in t, f"{label} (torch): {part!r} not in {t!r}"
    else:
        assert o == t, f"{label}:\n ours  {o}\n torch {t}"


def test_broadcast_error_names_both_shapes():
    with pytest.raises(RuntimeError) as e:
        engine.ones(2, 3) + engine.ones(4)
    assert "[2, 3]" in str(e.value) and "[4]" in str(e.value)


def test_mat1_mat2_message_for_linear_layer_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(1x1350 and 576x120\)"):
        engine.addmm(engine.ones(120), engine.ones(1, 1350), engine.ones(576, 120))


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
def test_inplace_broadcast_error_names_op_and_shapes(op):
    """Without a graph, an in-place op on shapes that never broadcast raised numpy's bare
    ValueError (from inside the handler meant to explain it)."""
    with pytest.raises(RuntimeError) as e:
        getattr(engine.ones(2, 3), op)(engine.ones(4))
    msg = str(e.value)
    assert "must match the size of tensor b (4) at non-singleton dimension 1" in msg
    assert op in msg and "[2, 3]" in msg and "[4]" in msg
