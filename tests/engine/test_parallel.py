"""Costly elementwise functions split over threads (engine/ops/_parallel.py): the same bits
as one numpy call, every fallback taken where the split can't apply, torch's thread API."""

import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import torch

import engine
from engine.ops import _parallel
from engine.ops.unary import _sigmoid_kernel

N = _parallel.PARALLEL_MIN + 4321  # not a multiple of the block or the alignment


@pytest.fixture
def two_threads():
    before = engine.get_num_threads()
    engine.set_num_threads(2)
    yield
    engine.set_num_threads(before)


def _data(n=N, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(n).astype(dtype) * 3


@pytest.mark.parametrize("ufunc", [np.exp, np.tanh, np.log1p, np.sin, np.cos, np.expm1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_apply_is_bit_identical_to_one_call(two_threads, ufunc, dtype):
    a = np.abs(_data(dtype=dtype)) if ufunc is np.log1p else _data(dtype=dtype)
    got = _parallel.apply(ufunc, a)
    assert got.dtype == ufunc(a[:1]).dtype and got.shape == a.shape
    np.testing.assert_array_equal(got, ufunc(a))


def test_apply_splits_the_work_between_threads(two_threads, monkeypatch):
    seen = set()
    real = np.tanh

    def spy(*args, out):
        seen.add(threading.get_ident())
        return real(*args, out=out)

    a = _data(n=_parallel.BLOCK * 64)
    out = np.empty_like(a)
    for _ in range(20):  # a worker that wakes late may get no chunk in one call, not in 20
        _parallel.run_blocks(spy, a, out=out)
    np.testing.assert_array_equal(out, np.tanh(a))
    assert len(seen) == 2


def test_run_blocks_with_a_fused_kernel_matches_one_call(two_threads):
    a = _data(n=3 * N)
    out = _parallel.run_blocks(_sigmoid_kernel, a, out=np.empty_like(a))
    ref = np.empty_like(a)
    _sigmoid_kernel(a, out=ref)
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("case", ["strided", "fortran", "small", "zero-dim", "one-thread"])
def test_fallbacks_give_the_plain_result(two_threads, case):
    a = _data(n=2 * N)
    if case == "strided":
        a = a[::2]
    elif case == "fortran":
        a = np.asfortranarray(a[: (N // 7) * 7 * 2].reshape(-1, 14)[:, :7])
    elif case == "small":
        a = a[:1000]
    elif case == "zero-dim":
        a = np.asarray(a[0])
    else:
        engine.set_num_threads(1)
    np.testing.assert_array_equal(_parallel.apply(np.exp, a), np.exp(a))


def test_an_error_in_a_chunk_reaches_the_caller(two_threads):
    calls = []

    def failing(a, out):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("chunk 3 failed")
        np.exp(a, out=out)

    a = _data(n=_parallel.BLOCK * 8)
    with pytest.raises(ValueError, match="chunk 3 failed"):
        _parallel.run_blocks(failing, a, out=np.empty_like(a))
    # the pool is free again afterwards
    np.testing.assert_array_equal(_parallel.apply(np.exp, a), np.exp(a))


def test_callers_in_several_threads_each_get_their_own_result(two_threads):
    arrays = [_data(seed=s) for s in range(4)]
    results = [None] * 4

    def run(i):
        for _ in range(5):
            results[i] = _parallel.apply(np.tanh, arrays[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, r in zip(arrays, results):
        np.testing.assert_array_equal(r, np.tanh(a))


def test_set_and_get_num_threads():
    before = engine.get_num_threads()
    try:
        engine.set_num_threads(3)
        assert engine.get_num_threads() == 3
        with pytest.raises(RuntimeError, match="positive integer"):
            engine.set_num_threads(0)
        assert engine.get_num_threads() == 3
    finally:
        engine.set_num_threads(before)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "sin", "log1p"])
def test_large_tensors_match_torch_forward_and_backward(two_threads, name):
    a = np.abs(_data()) if name == "log1p" else _data()
    x = engine.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    y, ty = getattr(engine, name)(x), getattr(torch, name)(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    y.sum().backward()
    ty.sum().backward()
    # near saturation 1 - tanh(x)^2 cancels: float32's absolute error of ~1e-7 remains
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_overflow_in_a_worker_warns_nothing(two_threads):
    x = engine.full((N,), 1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bool(engine.isinf(engine.exp(x)).all())
        assert float(engine.sigmoid(-x).max()) == 0.0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_working_pool(two_threads):
    a = _data()
    _parallel.apply(np.exp, a)          # workers started in the parent
    code = (
        "import os, sys, numpy as np\n"
        "import engine\n"
        "from engine.ops import _parallel\n"
        "engine.set_num_threads(2)\n"
        "a = np.linspace(-3, 3, _parallel.PARALLEL_MIN * 2, dtype=np.float32)\n"
        "_parallel.apply(np.exp, a)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    ok = np.array_equal(_parallel.apply(np.exp, a), np.exp(a))\n"
        "    os._exit(0 if ok else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n")
    r = subprocess.run([sys.executable, "-c", code], timeout=60,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert r.returncode == 0


@pytest.mark.parametrize("shape", [(37, 20, 9), (3, 20, 41)], ids=["by rows", "by columns"])
def test_matmul_cut_over_threads_equals_one_gemm(two_threads, monkeypatch, shape):
    monkeypatch.setattr(_parallel, "MATMUL_PARALLEL_MACS", 0)
    m, k, n = shape
    rng = np.random.default_rng(3)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    np.testing.assert_allclose(_parallel.matmul(a, b), a @ b, rtol=1e-6, atol=1e-6)
    ea, eb = engine.tensor(a, requires_grad=True), engine.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (ea @ eb).square().sum().backward()
    (ta @ tb).square().sum().backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-5)
