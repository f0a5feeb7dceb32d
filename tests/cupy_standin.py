"""A strict CPU stand-in for CuPy: numpy arrays in a wrapper type that refuses what real GPU
code gets wrong, so the engine's device path can be proven without a GPU.

The rules are CuPy's own (CuPy 14):

- ``np.asarray(device_array)`` (``__array__``) raises CuPy's ``TypeError``: a device array
  reaches the host only through ``.get()``, ``cupy.asnumpy`` or a Python scalar conversion
  (``float(x)``, ``int(x)``, ``bool(x)``/``if x:``, ``.item()``, ``.tolist()``), and each of
  those is counted as one host transfer (on a GPU each one synchronises).
- numpy ufuncs and numpy functions called on device arrays dispatch to CuPy's version
  (``__array_ufunc__`` / ``__array_function__``) and results stay on the device; a function or
  ufunc method CuPy does not have raises ``TypeError``, as numpy does when no implementation
  is found.
- host arrays do not mix with device arrays: a numpy array given to a device op raises
  ``TypeError`` (CuPy's "Unsupported type"); creation functions of numpy (``np.zeros``,
  ``np.arange``, numpy's RNGs) make host arrays, which then refuse to mix. ``cupy.asarray``
  of a host array is the one way in, counted as a host-to-device transfer.
- only the names CuPy 14.2 has exist (``tests/_cupy_names.py``, read off the real wheel).

``use()`` points ``engine.backend`` at the stand-in (and back); ``transfers`` counts.
"""

from __future__ import annotations

import contextlib
import sys
import types
import weakref

import numpy as np

import _cupy_names as _names

__all__ = ["ndarray", "transfers", "use", "module"]

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
             "construct a NumPy array explicitly.")
_CREATION_FROM_HOST = frozenset(("asarray", "array", "asanyarray", "ascontiguousarray"))


class TransferCounter:
    """Host transfers seen since the last ``reset()``: device-to-host (``d2h``) and
    host-to-device (``h2d``), with byte counts, and the call sites of the d2h ones."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.d2h = self.h2d = self.d2h_bytes = self.h2d_bytes = 0
        self.d2h_sites = []

    def _to_host(self, nbytes):
        self.d2h += 1
        self.d2h_bytes += int(nbytes)
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename == __file__:
            f = f.f_back
        if f is not None:
            self.d2h_sites.append(f"{f.f_code.co_filename}:{f.f_lineno}")

    def _to_device(self, nbytes):
        self.h2d += 1
        self.h2d_bytes += int(nbytes)


transfers = TransferCounter()
_live = {}  # id -> nbytes of live device arrays that own their memory (the memory pool)


def _track(obj):
    key = id(obj)
    _live[key] = obj._a.nbytes
    obj._ref = weakref.ref(obj, lambda _r, k=key: _live.pop(k, None))


def _refuse_host(x, where):
    raise TypeError(f"Unsupported type {type(x)!r}: a host (numpy) array cannot be used in a "
                    f"device operation ({where}); move it with cupy.asarray first")


def _unwrap(x, where):
    """The numpy array inside a device array; containers unwrapped element by element;
    host arrays refused."""
    if type(x) is ndarray:
        return x._a
    if isinstance(x, np.ndarray):
        _refuse_host(x, where)
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(r):
    """Results as device arrays (numpy's 0-d results and scalars become 0-d arrays, as CuPy's
    reductions give)."""
    if isinstance(r, np.ndarray):
        return ndarray._of(r)
    if isinstance(r, np.generic):
        return ndarray._of(np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(v) for v in r)
    if isinstance(r, list):
        return [_wrap(v) for v in r]
    return r


class Device:
    """``cupy.cuda.Device``: one device, id 0."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id >= _runtime.count:
            raise RuntimeError(f"CUDARuntimeError: cudaErrorInvalidDevice: invalid device "
                               f"ordinal {self.id}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def use(self):
        return None

    def synchronize(self):
        return None

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class ndarray:  # noqa: N801 - CuPy's name
    """A device array: a numpy array held where numpy code cannot reach it implicitly."""

    __slots__ = ("_a", "_ref", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = np.empty(shape, dtype, order=order)
        _track(self)

    @classmethod
    def _of(cls, a):
        obj = cls.__new__(cls)
        obj._a = a
        if a.base is None:
            _track(obj)
        return obj

    # --- the rules -------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        if name not in _names.UFUNCS:
            return NotImplemented
        if method not in ("__call__", "reduce", "accumulate", "reduceat", "outer", "at"):
            return NotImplemented
        where = f"numpy.{name}.{method}" if method != "__call__" else f"numpy.{name}"
        args = [_unwrap(x, where) for x in inputs]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o, where) for o in out)
        r = getattr(ufunc, method)(*args, **kwargs)
        if method == "at":
            return None
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(r)

    def __array_function__(self, func, types_, args, kwargs):
        impl = _function_for(func)
        if impl is None:
            return NotImplemented
        return impl(*args, **kwargs)

    # --- leaving the device (counted) -------------------------------------------
    def get(self, stream=None, order="C", out=None):
        transfers._to_host(self._a.nbytes)
        r = np.array(self._a, order=order)
        if out is not None:
            out[...] = r
            return out
        return r

    def _scalar(self, conv):
        transfers._to_host(self._a.itemsize)
        return conv(self._a)

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __complex__(self):
        return self._scalar(complex)

    def __bool__(self):
        return self._scalar(bool)

    def item(self, *args):
        transfers._to_host(self._a.itemsize)
        return self._a.item(*args)

    def tolist(self):
        transfers._to_host(self._a.nbytes)
        return self._a.tolist()

    def tobytes(self, order="C"):
        transfers._to_host(self._a.nbytes)
        return self._a.tobytes(order)

    # --- what stays on the device ---------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray._of(self._a.T))
    mT = property(lambda self: ndarray._of(np.swapaxes(self._a, -1, -2)))
    real = property(lambda self: ndarray._of(self._a.real))
    imag = property(lambda self: ndarray._of(self._a.imag))
    device = property(lambda self: Device(0))

    @property
    def base(self):
        return None if self._a.base is None else ndarray._of(self._a.base)

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (ndarray._of(r) for r in self._a) if self._a.ndim else iter(())

    def __repr__(self):
        return "array(" + np.array2string(self._a, separator=", ") + ")"

    __str__ = __repr__

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "indexing")])

    def __setitem__(self, key, value):
        if isinstance(value, np.ndarray) and not isinstance(value, ndarray):
            if key in (slice(None), Ellipsis):  # CuPy allows a whole-array copy from host
                transfers._to_device(value.nbytes)
                self._a[key] = value
                return
            _refuse_host(value, "item assignment")
        self._a[_unwrap(key, "indexing")] = _unwrap(value, "item assignment")

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(self._a.copy())

    def __reduce__(self):
        raise TypeError("the CPU stand-in for CuPy arrays is not picklable")

    def __dlpack__(self, *a, **k):
        raise TypeError("dlpack export is not supported by the CPU stand-in")


def _method(name):
    def m(self, *args, **kwargs):
        where = f"ndarray.{name}"
        args = [_unwrap(a, where) for a in args]
        kwargs = {k: _unwrap(v, where) for k, v in kwargs.items()}
        if "out" in kwargs and kwargs["out"] is not None:
            getattr(self._a, name)(*args, **kwargs)
            return kwargs["out"]
        return _wrap(getattr(self._a, name)(*args, **kwargs))
    m.__name__ = name
    return m


_NOT_DELEGATED = {"get", "item", "tolist", "tobytes", "device", "base", "T", "mT", "real", "imag",
                  "shape", "dtype", "ndim", "size", "nbytes", "itemsize", "strides", "flags",
                  "data", "cstruct", "mdspan", "reduced_view", "toDlpack", "dump", "dumps",
                  "tofile", "set", "scatter_add", "scatter_max", "scatter_min", "flat"}
for _n in sorted(_names.NDARRAY - _NOT_DELEGATED):
    if hasattr(np.ndarray, _n):
        setattr(ndarray, _n, _method(_n))


def _scatter(ufunc):
    def m(self, slices, value):
        ufunc.at(self._a, _unwrap(slices, "scatter"), _unwrap(value, "scatter"))
    return m


ndarray.scatter_add = _scatter(np.add)
ndarray.scatter_max = _scatter(np.maximum)
ndarray.scatter_min = _scatter(np.minimum)


def _set(self, arr, stream=None):
    """``ndarray.set``: copy a host array onto the device (counted)."""
    transfers._to_device(arr.nbytes)
    self._a[...] = arr


ndarray.set = _set

_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
           "floordiv": "floor_divide", "mod": "remainder", "pow": "power", "matmul": "matmul",
           "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
           "lshift": "left_shift", "rshift": "right_shift", "divmod": "divmod"}
_COMPARE = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
            "gt": "greater", "ge": "greater_equal"}


def _binary(uf, reflected=False, inplace=False):
    def op(self, other):
        if isinstance(other, np.ndarray) and type(other) is not ndarray:
            _refuse_host(other, f"operator {uf.__name__}")
        a, b = (other, self) if reflected else (self, other)
        a, b = _unwrap(a, uf.__name__), _unwrap(b, uf.__name__)
        if inplace:
            uf(a, b, out=a)
            return self
        return _wrap(uf(a, b))
    return op


for _k, _u in _BINARY.items():
    _uf = getattr(np, _u)
    setattr(ndarray, f"__{_k}__", _binary(_uf))
    setattr(ndarray, f"__r{_k}__", _binary(_uf, reflected=True))
    if _k != "divmod":
        setattr(ndarray, f"__i{_k}__", _binary(_uf, inplace=True))
for _k, _u in _COMPARE.items():
    setattr(ndarray, f"__{_k}__", _binary(getattr(np, _u)))
ndarray.__hash__ = None
for _k, _u in {"neg": "negative", "pos": "positive", "abs": "absolute",
               "invert": "invert"}.items():
    setattr(ndarray, f"__{_k}__", (lambda uf: lambda self: _wrap(uf(self._a)))(getattr(np, _u)))


# --- the module ---------------------------------------------------------------------

class ufunc:  # noqa: N801 - CuPy's name
    """``cupy.ufunc``: a numpy ufunc over device arrays only."""

    def __init__(self, np_ufunc):
        self._u = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def _call(self, method, args, kwargs):
        where = f"cupy.{self.__name__}"
        args = [_unwrap(a, where) for a in args]
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out, where)
        r = getattr(self._u, method)(*args, **kwargs)
        if method == "at":
            return None
        return out if out is not None else _wrap(r)

    def __call__(self, *args, **kwargs):
        return self._call("__call__", args, kwargs)

    def reduce(self, *args, **kwargs):
        return self._call("reduce", args, kwargs)

    def accumulate(self, *args, **kwargs):
        return self._call("accumulate", args, kwargs)

    def reduceat(self, *args, **kwargs):
        return self._call("reduceat", args, kwargs)

    def outer(self, *args, **kwargs):
        return self._call("outer", args, kwargs)

    def at(self, *args, **kwargs):
        return self._call("at", args, kwargs)

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


def _function(name, np_func, *, from_host=False):
    """A cupy function over device arrays made from numpy's function of the same name."""
    def f(*args, **kwargs):
        where = f"cupy.{name}"
        if from_host:
            a = args[0] if args else kwargs.pop("a", kwargs.pop("obj", None))
            if type(a) is ndarray:
                return _wrap(np_func(a._a, *args[1:], **kwargs))
            arr = np.asarray(a)
            if isinstance(a, np.ndarray) or arr.size:
                transfers._to_device(arr.nbytes)
            return _wrap(np.array(np_func(a, *args[1:], **kwargs), copy=True))
        args = [_unwrap(a, where) for a in args]
        kwargs = {k: _unwrap(v, where) for k, v in kwargs.items()}
        return _wrap(np_func(*args, **kwargs))
    f.__name__ = name
    f.__qualname__ = name
    return f


def _asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if type(a) is ndarray:
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def _get_array_module(*args):
    for a in args:
        if type(a) is ndarray:
            return module
    return np


def _not_on_cpu(name):
    class Kernel:
        def __init__(self, *args, **kwargs):
            self.args = args

        def __call__(self, *args, **kwargs):
            raise NotImplementedError(f"cupy.{name} compiles CUDA code; the CPU stand-in cannot "
                                      "run it (prove such code on a real GPU: "
                                      "benchmarks/gpu_check.sh)")
    Kernel.__name__ = name
    return Kernel


class _Runtime(types.SimpleNamespace):
    """``cupy.cuda.runtime``: one device (``count`` can be set by a test)."""

    count = 1

    def getDeviceCount(self):  # noqa: N802 - CUDA's name
        return self.count

    def getDevice(self):  # noqa: N802
        return 0

    def getDeviceProperties(self, i):  # noqa: N802
        Device(i)
        return {"name": b"CPU stand-in for CuPy", "totalGlobalMem": 8 << 30}

    def deviceSynchronize(self):  # noqa: N802
        return None


_runtime = _Runtime()


class MemoryPool:
    """``cupy.cuda.MemoryPool``: bytes held by live device arrays that own their memory."""

    def __init__(self):
        self._freed = 0

    def used_bytes(self):
        return sum(_live.values())

    def total_bytes(self):
        return self.used_bytes()

    def free_bytes(self):
        return 0

    def free_all_blocks(self):
        self._freed += 1


_pool = MemoryPool()


class _Stream:
    null = None

    def synchronize(self):
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _build_random():
    rnd = types.ModuleType("cupy.random")
    state = {"rs": np.random.RandomState(0)}

    def seed(s=None):
        state["rs"] = np.random.RandomState(None if s is None else int(s) & 0xFFFFFFFF)

    rnd.seed = seed
    for name in sorted(_names.RANDOM):
        src = getattr(np.random.RandomState, name, None)
        if name == "seed" or src is None or not callable(src):
            continue

        def draw(*args, _n=name, **kwargs):
            dtype = kwargs.pop("dtype", None)
            args = [_unwrap(a, f"cupy.random.{_n}") for a in args]
            r = getattr(state["rs"], _n)(*args, **kwargs)
            r = np.asarray(r)
            if dtype is not None:
                r = r.astype(dtype)
            return _wrap(r)
        draw.__name__ = name
        setattr(rnd, name, draw)

    class Generator:
        def __init__(self, seed_=None):
            self._g = np.random.default_rng(seed_)

        def __getattr__(self, name):
            fn = getattr(self._g, name)
            return lambda *a, **k: _wrap(fn(*[_unwrap(x, f"Generator.{name}") for x in a], **k))

    rnd.default_rng = Generator
    rnd.Generator = Generator
    rnd.get_random_state = lambda: state["rs"]
    return rnd


def _build_linalg():
    lin = types.ModuleType("cupy.linalg")
    for name in sorted(_names.LINALG):
        if name == "LinAlgError":
            lin.LinAlgError = np.linalg.LinAlgError
        elif hasattr(np.linalg, name):
            setattr(lin, name, _function(f"linalg.{name}", getattr(np.linalg, name)))
    return lin


def _build():
    m = types.ModuleType("cupy", __doc__)
    m.__version__ = "14.2.0+cpu-standin"
    for name in sorted(_names.TOP):
        if name in _names.UFUNCS and isinstance(getattr(np, name, None), np.ufunc):
            setattr(m, name, ufunc(getattr(np, name)))
            continue
        src = getattr(np, name, None)
        if src is None:
            continue
        if isinstance(src, type) or not callable(src):
            setattr(m, name, src)  # dtypes, constants, exception classes
        else:
            setattr(m, name, _function(name, src, from_host=name in _CREATION_FROM_HOST))
    m.ndarray = ndarray
    m.ufunc = ufunc
    m.asnumpy = _asnumpy
    m.get_array_module = _get_array_module
    m.is_available = lambda: True
    for k in ("ElementwiseKernel", "RawKernel", "RawModule", "ReductionKernel"):
        setattr(m, k, _not_on_cpu(k))
    m.fuse = lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f))
    m.get_default_memory_pool = lambda: _pool
    m.get_default_pinned_memory_pool = lambda: _pool
    m.random = _build_random()
    m.linalg = _build_linalg()
    lib = types.ModuleType("cupy.lib")
    lib.stride_tricks = types.SimpleNamespace(
        as_strided=lambda x, shape=None, strides=None: ndarray._of(
            np.lib.stride_tricks.as_strided(_unwrap(x, "as_strided"), shape, strides)),
        sliding_window_view=lambda x, *a, **k: ndarray._of(
            np.lib.stride_tricks.sliding_window_view(_unwrap(x, "sliding_window_view"), *a, **k)))
    m.lib = lib
    cuda = types.ModuleType("cupy.cuda")
    cuda.Device = Device
    cuda.runtime = _runtime
    cuda.MemoryPool = MemoryPool
    cuda.Stream = _Stream
    cuda.get_current_stream = lambda: _Stream()
    cuda.is_available = lambda: True
    m.cuda = cuda
    return m


module = _build()
_FUNCTIONS = {name: getattr(module, name) for name in _names.TOP
              if callable(getattr(module, name, None))}


def _function_for(func):
    """The stand-in's version of a numpy function called on a device array, or None where
    CuPy has none (numpy then raises its TypeError)."""
    mod = getattr(func, "__module__", "") or ""
    name = getattr(func, "__name__", "")
    if mod.startswith("numpy.linalg"):
        return getattr(module.linalg, name, None)
    if mod.startswith("numpy.random"):
        return None
    return _FUNCTIONS.get(name)


@contextlib.contextmanager
def use():
    """Point ``engine.backend`` at the stand-in for the duration (device 'cuda' works)."""
    from engine import backend
    saved = backend._cupy, backend._cupy_error
    backend._cupy, backend._cupy_error = module, None
    transfers.reset()
    try:
        yield module
    finally:
        backend._cupy, backend._cupy_error = saved
