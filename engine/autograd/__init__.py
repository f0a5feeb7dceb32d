"""``engine.autograd``: backward, grad, custom functions, gradcheck, anomaly mode, events."""

from . import events  # noqa: F401
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .functional import backward, grad  # noqa: F401
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .node import AccumulateGrad, Node  # noqa: F401
from .events import add_listener, remove_listener  # noqa: F401



class graph:
    """``engine.autograd.graph.Node`` for isinstance checks, as in PyTorch."""
    Node = Node
