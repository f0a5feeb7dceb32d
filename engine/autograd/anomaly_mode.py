"""``detect_anomaly``: remember where each node was created, and stop the backward pass at
the first node that returns NaN or Inf, naming the node and the user's line."""

from __future__ import annotations

from .node import _anomaly


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = tuple(_anomaly)
        _anomaly[0] = True
        _anomaly[1] = self.check_nan
        return self

    def __exit__(self, *exc):
        _anomaly[0], _anomaly[1] = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)
        return wrapper


class set_detect_anomaly(detect_anomaly):
    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(check_nan)
        self._prev = tuple(_anomaly)
        _anomaly[0] = bool(mode)
        _anomaly[1] = check_nan

    def __enter__(self):
        return self


def is_anomaly_enabled() -> bool:
    return _anomaly[0]
