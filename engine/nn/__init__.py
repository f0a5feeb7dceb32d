"""``engine.nn``: modules, parameters, functional ops, init and utilities, as ``torch.nn``."""

from .parameter import Buffer, Parameter  # noqa: F401
from . import modules  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import module as _module  # noqa: F401
from . import functional, init, utils  # noqa: F401


def __getattr__(name):
    # layer classes that arrive with modules/conv.py and modules/pooling.py
    try:
        return getattr(modules, name)
    except AttributeError:
        raise AttributeError(f"module 'engine.nn' has no attribute '{name}'") from None
