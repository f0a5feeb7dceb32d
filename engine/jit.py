"""``engine.compile`` and ``engine.jit``: PyTorch's compilers, accepted as identity wrappers.

In PyTorch, ``torch.compile``, ``torch.jit.script`` and ``torch.jit.trace`` only change how
fast a model runs (they capture and optimise its graph); results are the same. The engine
has no compiler: these return the callable they are given, unchanged, so code written for
PyTorch runs here and the debugger still sees every op of the eager graph. Decorator forms
work (``@engine.compile``, ``@engine.compile(mode=...)``, ``@engine.jit.script``).
``jit.script`` and ``jit.trace`` warn as PyTorch 2.13 does (both are deprecated there).
"""

from __future__ import annotations

import warnings

__all__ = ["compile", "script", "trace", "trace_module", "ignore", "unused", "export",
           "annotate", "is_scripting", "is_tracing"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,  # noqa: A001
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """``torch.compile``: returns ``model`` itself (a decorator when ``model`` is None).
    In PyTorch it only changes speed; the engine runs eagerly."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is "
                             "provided.")
    return model


def _deprecated(name):
    warnings.warn(f"`torch.jit.{name}` is deprecated. Please switch to `torch.compile` or "
                  "`torch.export`.", DeprecationWarning, stacklevel=3)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``torch.jit.script``: returns ``obj`` itself (TorchScript only changes speed and
    deployment; the engine runs eagerly)."""
    _deprecated("script")
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """``torch.jit.trace``: returns ``func`` itself, not a recording of one run (so, unlike
    a PyTorch trace, data-dependent control flow keeps working)."""
    _deprecated("trace")
    if not callable(func):
        raise AssertionError(f"A callable function is expected, but {type(func)} is "
                             "provided.")
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs=True):
    """``torch.jit.trace_module``: returns ``mod`` itself."""
    return mod


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` (bare or called): the function unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


unused = ignore


def export(fn):
    """``@torch.jit.export``: the function unchanged."""
    return fn


def annotate(the_type, the_value):
    """``torch.jit.annotate``: the value (the type hint only matters to TorchScript)."""
    return the_value


def is_scripting():
    """False: nothing is ever being scripted here."""
    return False


def is_tracing():
    """False: nothing is ever being traced here."""
    return False
