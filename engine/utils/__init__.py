"""``engine.utils``: data loading (``engine.utils.data``)."""

from . import data  # noqa: F401
