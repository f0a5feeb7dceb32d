"""engine.compile, Module.compile and engine.jit: identity wrappers (PyTorch's only change
speed), decorator forms, and torch's argument errors."""

import pytest

import engine


def test_compile_returns_the_same_callable_and_decorates():
    m = engine.nn.Linear(2, 3)
    assert engine.compile(m) is m
    assert engine.compile(m, mode="max-autotune", fullgraph=True, dynamic=True) is m

    @engine.compile
    def f(x):
        return x * 2

    @engine.compile(mode="reduce-overhead", backend="inductor")
    def g(x):
        return x + 1

    assert f(engine.ones(2)).tolist() == [2.0, 2.0] and g(engine.ones(1)).tolist() == [2.0]
    assert f.__name__ == "f" and g.__name__ == "g"
    assert m.compile() is None and m(engine.ones(1, 2)).shape == (1, 3)
    assert "only change" in engine.compile.__doc__ and "speed" in engine.jit.script.__doc__


def test_compile_errors_are_torchs():
    """torch 2.13's texts (calling torch.compile here would import dynamo: seconds)."""
    with pytest.raises(RuntimeError, match="^Either mode or options can be specified, but both "
                                           "can't be specified at the same time.$"):
        engine.compile(lambda x: x, mode="default", options={"a": 1})
    with pytest.raises(AssertionError, match="^A callable function is expected, but <class "
                                             "'int'> is provided.$"):
        engine.compile(3)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_jit_script_trace_and_helpers_are_identity():
    m = engine.nn.Sequential(engine.nn.Linear(2, 2), engine.nn.ReLU())
    with pytest.warns(DeprecationWarning, match="`torch.jit.script` is deprecated. Please "
                                                "switch to `torch.compile` or `torch.export`."):
        assert engine.jit.script(m) is m
    with pytest.warns(DeprecationWarning, match="`torch.jit.trace` is deprecated"):
        assert engine.jit.trace(m, engine.ones(1, 2)) is m
    assert engine.jit.trace_module(m, {"forward": engine.ones(1, 2)}) is m

    @engine.jit.script
    def h(x):
        return x.sum() if x.numel() > 1 else x     # data-dependent flow keeps working

    assert float(h(engine.ones(3))) == 3.0 and h(engine.ones(1)).shape == (1,)

    @engine.jit.ignore
    def i1(x):
        return x

    @engine.jit.ignore(drop=True)
    def i2(x):
        return x

    assert i1(1) == 1 and i2(2) == 2 and engine.jit.export(i1) is i1
    assert engine.jit.unused(i1) is i1 and engine.jit.annotate(list, [1]) == [1]
    assert engine.jit.is_scripting() is False and engine.jit.is_tracing() is False
