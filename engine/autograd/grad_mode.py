"""``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Grad mode is per thread, as in PyTorch: the GUI thread and a training thread do not
see each other's ``no_grad``.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradModeContext:
    """Context manager and decorator setting grad mode to ``self._mode``."""

    _mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode
        return None

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class _BareDecorator(_GradModeContext):
    """Also usable as a bare decorator: ``@no_grad`` as well as ``@no_grad()``."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecorator):
    _mode = False


class enable_grad(_BareDecorator):
    _mode = True


class inference_mode(_GradModeContext):
    """Alias of ``no_grad`` (the engine has no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self._mode = not mode

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = prev
        return wrapper


class set_grad_enabled(_GradModeContext):
    """Sets grad mode immediately (as a function) and restores it on ``__exit__``."""

    def __init__(self, mode: bool):
        self._prev = _state.enabled
        self._mode = bool(mode)
        _state.enabled = self._mode

    def __enter__(self):
        return None

    def __call__(self, fn):
        _state.enabled = self._prev
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper
