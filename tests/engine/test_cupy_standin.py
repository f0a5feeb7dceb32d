"""The CPU stand-in for CuPy enforces CuPy's rules: each rule is tried here, so a test that
passes on the stand-in has not leaned on an implicit host conversion."""

from __future__ import annotations

import numpy as np
import pytest

import cupy_standin
from cupy_standin import module as cp, transfers


@pytest.fixture(autouse=True)
def _reset():
    transfers.reset()


def test_implicit_conversion_to_numpy_raises_cupys_error():
    x = cp.arange(4)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.array([x, x])


def test_ufuncs_and_functions_stay_on_the_device():
    x = cp.linspace(0, 1, 5, dtype=np.float32)
    for r in (np.exp(x), np.add(x, 1.0), x * 2, np.sum(x), np.concatenate([x, x]),
              np.maximum.reduce(x), x.reshape(5, 1).T, x[1:3], np.where(x > 0.5, x, 0.0),
              cp.matmul(x.reshape(1, 5), x.reshape(5, 1))):
        assert type(r) is cp.ndarray, type(r)
    assert np.sum(x).shape == ()  # reductions give 0-d device arrays, not host scalars
    np.add.at(x, cp.asarray(np.array([0, 0])), 1.0)
    assert transfers.d2h == 0


def test_numpy_only_functions_and_methods_raise():
    x = cp.ones(3)
    with pytest.raises(TypeError, match="no implementation found"):
        np.insert(x, 0, 1.0)  # CuPy has no insert
    with pytest.raises(TypeError):
        np.spacing(x)  # nor the spacing ufunc
    assert not hasattr(cp, "errstate") and not hasattr(cp, "insert")


def test_host_arrays_do_not_mix_with_device_arrays():
    x = cp.ones(3)
    host = np.zeros(3)  # np.zeros makes a host array, as on a GPU
    for bad in (lambda: x + host, lambda: np.add(x, host), lambda: cp.concatenate([x, host]),
                lambda: x[np.array([0, 1])], lambda: x.__setitem__(slice(0, 2), host[:2])):
        with pytest.raises(TypeError, match="Unsupported type"):
            bad()
    x[...] = host  # a whole-array copy from the host is allowed, and counted
    assert transfers.h2d == 1
    assert float(x.sum()) == 0.0


def test_host_transfers_are_counted():
    x = cp.asarray(np.arange(6, dtype=np.float32))
    assert (transfers.h2d, transfers.h2d_bytes) == (1, 24)
    assert transfers.d2h == 0
    x.get()
    float(x[0])
    bool(x[1] > 0)
    x[2].item()
    cp.asnumpy(x)
    assert transfers.d2h == 5
    assert all(__file__ in s for s in transfers.d2h_sites)


def test_device_runtime_and_random():
    assert cp.cuda.runtime.getDeviceCount() == 1
    with cp.cuda.Device(0) as d:
        assert d.id == 0 and cp.ones(2).device == d
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cp.cuda.Device(3)
    assert cp.get_array_module(cp.ones(1)) is cp and cp.get_array_module(np.ones(1)) is np
    cp.random.seed(1)
    a = cp.random.standard_normal((3, 4), dtype=np.float32)
    cp.random.seed(1)
    b = cp.random.standard_normal((3, 4), dtype=np.float32)
    assert type(a) is cp.ndarray and a.dtype == np.float32
    assert bool((a == b).all())
    s = cp.lib.stride_tricks.as_strided(cp.arange(6), (2, 3), (24, 8))
    assert type(s) is cp.ndarray and s.shape == (2, 3)


def test_kernels_cannot_run_on_the_cpu():
    k = cp.ElementwiseKernel("float32 x", "float32 y", "y = x", "copy")
    with pytest.raises(NotImplementedError, match="CPU stand-in"):
        k(cp.ones(2, dtype=np.float32))


def test_memory_pool_counts_live_arrays():
    pool = cp.get_default_memory_pool()
    before = pool.used_bytes()
    x = cp.empty((1024,), dtype=np.float64)
    assert pool.used_bytes() - before == 8192
    del x
    assert pool.used_bytes() == before


def test_use_points_the_engine_backend_at_the_standin():
    from engine import backend
    with cupy_standin.use() as m:
        assert backend.cupy_module() is m
        assert backend.is_cuda_array(m.ones(1)) and not backend.is_cuda_array(np.ones(1))
        assert backend.get_array_module(m.ones(1)) is m
    assert backend._cupy is not m
