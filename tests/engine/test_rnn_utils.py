"""nn.utils.rnn against torch: PackedSequence, pack_padded_sequence (sorted and not),
pad_packed_sequence (batch_first, padding_value, total_length), pad_sequence (batch_first,
padding_value, padding_side), pack_sequence, unpack_sequence, unpad_sequence: values,
batch sizes, permutations, gradients, grad_fn DAGs and error texts; gradcheck of packing and
padding in float64 (double backward of packing too)."""

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import engine
from _nn_parity import assert_close, assert_same_dag, to_np
from engine.nn.utils import rnn as ernn
from test_rnn import assert_raises_like_torch

rng = np.random.default_rng(0)


def both(*arrays, dtype=np.float32, grad=True):
    t = [torch.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
    e = [engine.tensor(a.astype(dtype), requires_grad=grad) for a in arrays]
    return t, e


def same_packed(ep, tp):
    assert isinstance(ep, ernn.PackedSequence) and isinstance(ep, tuple)
    assert_close(ep.data, tp.data, what="data")
    assert_same_dag(ep.data, tp.data, "data")
    assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert ep.batch_sizes.dtype == engine.int64 and ep.batch_sizes.device.type == "cpu"
    for name in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(ep, name), getattr(tp, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert a.tolist() == b.tolist(), name


def backward_both(e, t, tensors_e, tensors_t, seed=0):
    g = np.random.default_rng(seed).standard_normal(tuple(t.shape)).astype(to_np(t).dtype)
    (t * torch.tensor(g)).sum().backward()
    (e * engine.tensor(g)).sum().backward()
    for k, (a, b) in enumerate(zip(tensors_e, tensors_t)):
        assert_close(a.grad, b.grad, what=f"grad of input {k}")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [
    ([4, 3, 3, 1], True), ([4, 4, 4, 4], True), ([2, 4, 1, 3], False), ([3, 1, 3, 4], False),
    ([2, 3, 2, 3], False)])
def test_pack_then_pad_round_trip(lengths, enforce_sorted, batch_first):
    t, e = both(rng.standard_normal((4, 4, 2, 3)))
    tp = trnn.pack_padded_sequence(t[0], lengths, batch_first, enforce_sorted)
    ep = ernn.pack_padded_sequence(e[0], lengths, batch_first, enforce_sorted)
    same_packed(ep, tp)
    for kw in (dict(), dict(padding_value=-2.0, total_length=6)):
        to, tl = trnn.pad_packed_sequence(tp, batch_first=batch_first, **kw)
        eo, el = ernn.pad_packed_sequence(ep, batch_first=batch_first, **kw)
        assert_close(eo, to, what="padded")
        assert_same_dag(eo, to, "padded")
        assert el.tolist() == tl.tolist() and el.dtype == engine.int64
    backward_both(eo, to, e, t)


def test_pack_lengths_as_tensor_and_1d_steps():
    t, e = both(rng.standard_normal((3, 2)))
    tp = trnn.pack_padded_sequence(t[0], torch.tensor([3, 1], dtype=torch.int32))
    ep = ernn.pack_padded_sequence(e[0], engine.tensor([3, 1], dtype=engine.int32))
    same_packed(ep, tp)
    backward_both(ep.data, tp.data, e, t)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    arrays = [rng.standard_normal((n, 2)) for n in (3, 1, 4)]
    t, e = both(*arrays)
    to = trnn.pad_sequence(t, batch_first, padding_value=0.5, padding_side=padding_side)
    eo = ernn.pad_sequence(e, batch_first, padding_value=0.5, padding_side=padding_side)
    assert_close(eo, to, what="padded")
    assert_same_dag(eo, to)
    backward_both(eo, to, e, t)


def test_pad_sequence_of_a_tensor_and_broadcast_rows():
    t, e = both(rng.standard_normal((2, 3, 2)))
    to, eo = trnn.pad_sequence(t[0]), ernn.pad_sequence(e[0])
    assert_close(eo, to)
    assert_same_dag(eo, to)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((2, 1))
    assert_close(ernn.pad_sequence([engine.tensor(a), engine.tensor(b)]),
                 trnn.pad_sequence([torch.tensor(a), torch.tensor(b)]))


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_sequence(enforce_sorted):
    ns = (4, 2, 1) if enforce_sorted else (2, 4, 1)
    t, e = both(*[rng.standard_normal((n, 3)) for n in ns])
    tp = trnn.pack_sequence(t, enforce_sorted=enforce_sorted)
    ep = ernn.pack_sequence(e, enforce_sorted=enforce_sorted)
    same_packed(ep, tp)
    tu, eu = trnn.unpack_sequence(tp), ernn.unpack_sequence(ep)
    assert len(tu) == len(eu) == 3
    for a, b in zip(eu, tu):
        assert_close(a, b)
        assert_same_dag(a, b)
    backward_both(engine.cat(eu, 0), torch.cat(tu, 0), e, t)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence(batch_first):
    t, e = both(rng.standard_normal((4, 3, 2)))
    tx, ex = t[0] * 1, e[0] * 1      # unpad_sequence transposes a time-major input in place
    lengths = [3, 1, 2, 3] if batch_first else [4, 2, 1]   # (B, T, *) or (T, B, *)
    tu = trnn.unpad_sequence(tx, torch.tensor(lengths), batch_first)
    eu = ernn.unpad_sequence(ex, engine.tensor(lengths), batch_first)
    assert tuple(ex.shape) == tuple(tx.shape)
    for a, b in zip(eu, tu):
        assert_close(a, b)
        assert_same_dag(a, b)
    backward_both(engine.cat(eu, 0), torch.cat(tu, 0), e, t)


def test_packed_sequence_record():
    data, sizes = engine.randn(3, 2), engine.tensor([2, 1])
    p = ernn.PackedSequence(data, sizes)
    assert p.sorted_indices is None and p.unsorted_indices is None
    d, b, s, u = p
    assert d is data and b is sizes
    q = ernn.PackedSequence((data, sizes), sorted_indices=engine.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0] and q.batch_sizes is sizes
    assert p.to(engine.float32) is p
    assert p.double().data.dtype == engine.float64 and p.double().batch_sizes is sizes
    assert not p.is_cuda
    assert ernn.invert_permutation(engine.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert ernn.invert_permutation(None) is None
    assert engine.nn.utils.rnn.PackedSequence is ernn.PackedSequence


def test_gradcheck_pack_and_pad_float64():
    x = engine.randn(4, 3, 2, dtype=engine.float64, requires_grad=True)

    def f(x):
        p = ernn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        return ernn.pad_packed_sequence(p, batch_first=True, padding_value=1.0)[0]

    assert engine.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert engine.autograd.gradgradcheck(
        lambda x: ernn.pack_padded_sequence(x, [4, 2, 1]).data ** 2, (x,))
    ys = [engine.randn(n, 2, dtype=engine.float64, requires_grad=True) for n in (3, 1)]
    assert engine.autograd.gradcheck(
        lambda *ys: ernn.pad_sequence(ys, padding_side="left"), tuple(ys))


ERRORS = [
    ("unsorted", lambda R, T: R.pack_padded_sequence(T.randn(4, 3, 2), [2, 4, 1])),
    ("lengths_count", lambda R, T: R.pack_padded_sequence(T.randn(4, 3, 2), [4, 2])),
    ("zero_length", lambda R, T: R.pack_padded_sequence(T.randn(4, 3, 2), [4, 2, 0])),
    ("empty", lambda R, T: R.pack_padded_sequence(T.randn(0, 2, 1), [1, 1])),
    ("total_length", lambda R, T: R.pad_packed_sequence(
        R.pack_padded_sequence(T.randn(4, 3, 2), [4, 2, 1]), total_length=2)),
    ("trailing_dims", lambda R, T: R.pad_sequence([T.randn(3, 2), T.randn(2, 3)])),
    ("trailing_dims_3d", lambda R, T: R.pad_sequence([T.randn(3, 2), T.randn(2, 3, 1)])),
    ("padding_side", lambda R, T: R.pad_sequence([T.randn(3, 2)], padding_side="mid")),
    ("not_iterable", lambda R, T: R.pad_sequence(3)),
    ("no_sequences", lambda R, T: R.pad_sequence([])),
    ("pack_sequence_unsorted", lambda R, T: R.pack_sequence([T.randn(1, 2), T.randn(3, 2)])),
    ("unpad_leaf", lambda R, T: R.unpad_sequence(T.randn(3, 2, 2, requires_grad=True),
                                                 T.tensor([3, 2]))),
    ("bad_data", lambda R, T: R.PackedSequence(T.randn(3, 2))),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_error_texts_are_torchs(case):
    assert_raises_like_torch(lambda T: case[1](T.nn.utils.rnn, T))


def test_a_length_beyond_the_padding_is_refused():
    """PyTorch returns a PackedSequence whose batch_sizes do not match its data here."""
    with pytest.raises(RuntimeError, match=r"sequence length \(5\) is larger than the padded "
                                           r"input's 4 time steps"):
        ernn.pack_padded_sequence(engine.randn(4, 3, 2), [5, 2, 1])
