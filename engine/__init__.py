"""engine: a PyTorch-compatible autograd/nn/optim engine on numpy (CPU) and CuPy (GPU).

``import engine as torch`` runs tutorial code: same functions, same ``grad_fn`` names,
same errors. The engine emits graph and gradient events (``engine.autograd.events``)
for the autograd-viz debugger and pays nothing when nobody listens.
"""

__version__ = "0.1.0"

import warnings as _warnings

# PyTorch computes log(0) = -inf, exp(1000) = inf and 0/0 = nan silently; numpy warns. Silence
# the warnings numpy raises inside engine code only (users' own numpy calls still warn); the
# debugger, not a console warning, is where a non-finite value should be found.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"engine(\.|$)")

from . import _malloc  # noqa: F401,E402  (keeps freed array memory for the next step)

from .dtypes import (dtype, float32, float64, float16, bfloat16, int64, int32, int16, int8,  # noqa
                     uint8, bool_ as bool, get_default_dtype, set_default_dtype)
from .size import Size  # noqa: F401
from .device import device, get_default_device, set_default_device  # noqa: F401
from .tensor import Tensor  # noqa: F401
from . import _tensor_methods  # noqa: F401  (attaches ops to Tensor)
from ._legacy_types import (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,  # noqa
                            ShortTensor, CharTensor, ByteTensor, BoolTensor)
from .ops import *  # noqa: F401,F403
from .ops import inplace as _inplace  # noqa: F401
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, empty, full, zeros_like,  # noqa
                       ones_like, empty_like, full_like, arange, linspace, logspace, eye, rand,
                       randn, randint, randperm, rand_like, randn_like, randint_like, normal,
                       bernoulli, multinomial)
from .random import Generator, manual_seed, seed, initial_seed, default_generator  # noqa: F401
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled,  # noqa
                                 inference_mode)
from . import autograd, cuda, accelerator, backend  # noqa: F401
from .ops._parallel import set_num_threads, get_num_threads  # noqa: F401,E402
from .linalg import vector_norm as _vector_norm  # noqa: F401,E402  (binds engine.linalg)
from . import linalg  # noqa: F401,E402  (engine/linalg.py, not ops/linalg.py)

float = float32  # noqa: A001 - PyTorch's aliases
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16


def numel(input) -> "int":
    return input.numel()


def softmax(input, dim, dtype=None):
    """``torch.softmax``: the same node as ``nn.functional.softmax``."""
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return input.log_softmax(dim, dtype=dtype)


def is_tensor(obj) -> "bool":
    return isinstance(obj, Tensor)


def is_floating_point(input) -> "bool":
    return input.is_floating_point()


def _load_optional():
    """nn, optim, utils and serialization land as separate subpackages."""
    import importlib
    g = globals()
    for name in ("nn", "optim", "utils"):
        try:
            g[name] = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    try:
        from .serialization import save, load  # noqa: F401
        g["save"], g["load"] = save, load
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.serialization":
            raise


_load_optional()

from . import distributions  # noqa: F401,E402  (after nn: its losses build log_probs)
from . import jit  # noqa: F401,E402
from .jit import compile  # noqa: F401,E402,A001  (identity: torch.compile only changes speed)
