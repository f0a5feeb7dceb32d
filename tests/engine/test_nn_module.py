"""nn.Module against torch.nn.Module: registration order, traversal, state dicts (and their
errors, word for word), modes, device/dtype moves, printing, hooks, containers."""

import copy

import numpy as np
import pytest
import torch

import engine
from _nn_parity import assert_close, assert_same_dag, copy_state, to_np


def build(nn):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)
            self.bn = nn.BatchNorm1d(4)
            self.register_buffer("scale", nn.Parameter(torch.ones(1) if nn is torch.nn
                                                       else engine.ones(1)).detach())
            self.register_buffer("tmp", (torch if nn is torch.nn else engine).zeros(2),
                                 persistent=False)

        def forward(self, x):
            return self.bn(self.lin(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.act = nn.ReLU()
            self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 2)])
            self.extra = nn.Parameter((torch if nn is torch.nn else engine).zeros(2))
            self.shared = self.heads[0]

        def forward(self, x):
            h = self.act(self.block(x))
            return self.heads[0](h) + self.heads[1](h) + self.extra

    return Net()


def test_traversal_matches_torch():
    t, e = build(torch.nn), build(engine.nn)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == \
        [n for n, _ in t.named_modules(remove_duplicate=False)]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)


def test_state_dict_round_trip_and_parity():
    torch.manual_seed(0)
    t, e = build(torch.nn), build(engine.nn)
    copy_state(t, e)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_close(e(engine.tensor(x)), t(torch.tensor(x)))
    assert_close(e.block.bn.running_mean, t.block.bn.running_mean)
    sd = e.state_dict()
    assert sd["block.lin.weight"].requires_grad is False
    assert sd["block.lin.weight"]._data is e.block.lin.weight._data   # shares storage
    assert e.state_dict(keep_vars=True)["block.lin.weight"] is e.block.lin.weight
    e2 = build(engine.nn)
    assert repr(e2.load_state_dict(sd)) == "<All keys matched successfully>"
    for k, v in e2.state_dict().items():
        np.testing.assert_array_equal(to_np(v), to_np(sd[k]))


def _error(module, sd, strict=True):
    with pytest.raises(Exception) as info:
        module.load_state_dict(sd, strict=strict)
    return type(info.value), str(info.value)


def test_load_state_dict_errors_match_torch_text():
    t, e = build(torch.nn), build(engine.nn)
    tsd = t.state_dict()
    esd = e.state_dict()
    # missing and unexpected keys
    for drop, add in [("block.lin.bias", None), (None, "block.lin.foo"), (None, "bogus"),
                      ("extra", "heads.0.extra"), ("block.bn.running_var", "block.zz.weight")]:
        ts, es = dict(tsd), dict(esd)
        if drop:
            del ts[drop], es[drop]
        if add:
            ts[add], es[add] = torch.zeros(1), engine.zeros(1)
        assert _error(e, es) == _error(t, ts)
        res_e, res_t = e.load_state_dict(es, strict=False), t.load_state_dict(ts, strict=False)
        assert (res_e.missing_keys, res_e.unexpected_keys) == \
            (res_t.missing_keys, res_t.unexpected_keys)
    # shape mismatch
    ts, es = dict(tsd), dict(esd)
    ts["block.lin.weight"], es["block.lin.weight"] = torch.zeros(2, 2), engine.zeros(2, 2)
    assert _error(e, es) == _error(t, ts)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([1, 2])


def test_load_state_dict_without_num_batches_tracked_is_accepted_like_torch():
    bn_t, bn_e = torch.nn.BatchNorm1d(3), engine.nn.BatchNorm1d(3)
    sd_t = {k: v for k, v in bn_t.state_dict().items() if k != "num_batches_tracked"}
    sd_e = {k: v for k, v in bn_e.state_dict().items() if k != "num_batches_tracked"}
    assert repr(bn_e.load_state_dict(sd_e)) == repr(bn_t.load_state_dict(sd_t))


def test_setattr_rules():
    m = engine.nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter "
                                        r"'weight' \(torch.nn.Parameter or None expected\)"):
        m.weight = engine.zeros(2, 2)
    m.weight = None
    assert "weight" in m._parameters and m.weight is None
    m.sub = engine.nn.ReLU()
    assert "sub" in m._modules
    m.sub = engine.nn.Tanh()
    with pytest.raises(TypeError, match="cannot assign 'builtins.int' as child module|"
                                        "cannot assign 'int' as child module"):
        m.sub = 3
    del m.sub
    assert "sub" not in m._modules
    m.register_buffer("b", engine.zeros(1))
    m.b = engine.ones(1)
    assert m._buffers["b"].item() == 1
    m.plain = 5
    assert m.plain == 5 and "plain" not in m._parameters
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        m.nope
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", None)

    class Early(engine.nn.Module):
        def __init__(self):
            self.w = engine.nn.Parameter(engine.zeros(1))
    with pytest.raises(AttributeError, match="cannot assign parameters before "
                                             r"Module.__init__\(\) call"):
        Early()


def test_parameter_is_tensor_and_prints_like_torch():
    data = np.array([1.0, 2.0], np.float32)
    p, tp = engine.nn.Parameter(engine.tensor(data)), torch.nn.Parameter(torch.tensor(data))
    assert isinstance(p, engine.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == repr(tp)
    q = engine.nn.Parameter(engine.tensor(data), requires_grad=False)
    assert repr(q) == repr(torch.nn.Parameter(torch.tensor(data), requires_grad=False))
    y = p * 2
    assert type(y) is engine.Tensor
    base = engine.tensor(data)
    shared = engine.nn.Parameter(base)
    base._data[0] = 9
    assert shared[0].item() == 9


def test_train_eval_zero_grad_apply_requires_grad():
    e = build(engine.nn)
    e.eval()
    assert all(not m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        e.train("yes")
    out = e(engine.randn(4, 3)).sum()
    out.backward()
    assert all(p.grad is not None for p in e.parameters())
    e.zero_grad(set_to_none=False)
    assert all(float(np.abs(to_np(p.grad)).sum()) == 0 for p in e.parameters())
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())
    seen = []
    e.apply(lambda m: seen.append(type(m).__name__))
    tseen = []
    build(torch.nn).apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())


def test_to_double_keeps_parameter_identity():
    e = build(engine.nn)
    w = e.block.lin.weight
    e(engine.randn(4, 3)).sum().backward()
    assert e.double() is e
    assert e.block.lin.weight is w and w.dtype == engine.float64
    assert w.grad.dtype == engine.float64
    assert e.block.bn.running_mean.dtype == engine.float64
    assert e.block.bn.num_batches_tracked.dtype == engine.int64
    e.float()
    assert w.dtype == engine.float32
    e.to(engine.float64)
    assert w.dtype == engine.float64
    e.to("cpu", dtype=engine.float32)
    assert w.dtype == engine.float32 and str(w.device) == "cpu"
    e.cpu()
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        e.to(engine.int64)


def test_deepcopy_is_independent():
    e = build(engine.nn)
    c = copy.deepcopy(e)
    assert repr(c) == repr(e)
    c.block.lin.weight._data[...] = 0
    assert np.abs(to_np(e.block.lin.weight)).sum() > 0
    assert isinstance(c.block.lin.weight, engine.nn.Parameter)
    assert c.shared is c.heads[0]


REPRS = [
    lambda nn: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.2),
                             nn.Sequential(nn.Tanh(), nn.Sigmoid())),
    lambda nn: nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU()]),
    lambda nn: nn.ModuleDict({"a": nn.LeakyReLU(), "b": nn.ELU(alpha=0.5, inplace=True)}),
    lambda nn: nn.Sequential(nn.BatchNorm1d(4), nn.BatchNorm2d(3, momentum=None, affine=False),
                             nn.LayerNorm((2, 3)), nn.LayerNorm(4, bias=False),
                             nn.BatchNorm1d(2, track_running_stats=False)),
    lambda nn: nn.Sequential(nn.Embedding(10, 3), nn.Embedding(5, 2, padding_idx=0,
                                                                  max_norm=1.0)),
    lambda nn: nn.Sequential(nn.GELU(), nn.GELU("tanh"), nn.SiLU(), nn.Softmax(dim=1),
                             nn.LogSoftmax(dim=-1), nn.Softmin(1), nn.ReLU(inplace=True),
                             nn.ReLU6(), nn.Hardtanh(-2.0, 2.0), nn.LeakyReLU(0.2, True)),
    lambda nn: nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2, 5)), nn.Identity(),
                             nn.Linear(3, 2, bias=False), nn.Bilinear(2, 3, 4)),
    lambda nn: nn.Sequential(nn.RNNCell(3, 4), nn.RNNCell(3, 4, bias=False,
                                                          nonlinearity="relu"),
                             nn.LSTMCell(2, 5)),
    lambda nn: nn.Sequential(nn.MSELoss(), nn.CrossEntropyLoss(label_smoothing=0.1),
                             nn.NLLLoss(), nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.L1Loss(),
                             nn.SmoothL1Loss(), nn.HuberLoss()),
    lambda nn: nn.Sequential(nn.Dropout(), nn.Dropout2d(0.3), nn.Dropout1d(inplace=True),
                             nn.AlphaDropout(0.1)),
    lambda nn: nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(2), nn.Conv1d(2, 3, 3, padding=1),
                             nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((1, 1)),
                             nn.ConvTranspose2d(3, 2, 2, stride=2)),
    lambda nn: nn.ModuleList(),
    lambda nn: nn.Sequential(),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_matches_torch(i):
    assert repr(REPRS[i](engine.nn)) == repr(REPRS[i](torch.nn))


def test_sequential_container_ops_match_torch():
    for nn in (engine.nn, torch.nn):
        s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        assert len(s) == 3
        assert isinstance(s[0], nn.Linear) and isinstance(s[-1], nn.Linear)
        sub = s[1:]
        assert isinstance(sub, nn.Sequential) and len(sub) == 2
        s.append(nn.Tanh())
        del s[1]
        assert [k for k in s._modules] == ["0", "1", "2"]
        s.insert(0, nn.Identity())
        assert isinstance(s[0], nn.Identity) and len(s) == 4
        with pytest.raises(IndexError, match="index 10 is out of range"):
            s[10]
    ml = engine.nn.ModuleList([engine.nn.ReLU()])
    ml.append(engine.nn.Tanh())
    ml.extend([engine.nn.Sigmoid()])
    ml += [engine.nn.ReLU()]
    assert len(ml) == 4 and isinstance(ml[-2], engine.nn.Sigmoid)
    assert len(ml[1:3]) == 2
    md = engine.nn.ModuleDict({"a": engine.nn.ReLU()})
    md["b"] = engine.nn.Linear(1, 1)
    assert list(md.keys()) == ["a", "b"] and "b" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["b.weight", "b.bias"]
    with pytest.raises(NotImplementedError, match=r'Module \[ModuleList\] is missing the '
                                                  r'required "forward" function'):
        ml(engine.zeros(1))


def test_forward_hooks_run_modify_and_remove():
    m = engine.nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    x = engine.randn(3, 2)
    y = m(x)
    np.testing.assert_allclose(to_np(y), np.broadcast_to(to_np(m.bias) + 1, (3, 2)), rtol=1e-6)
    assert calls == [engine.Size([3, 2])]
    h1.remove()
    h2.remove()
    assert_close(m(x), to_np(x) @ to_np(m.weight).T + to_np(m.bias))
    kw = []
    h = m.register_forward_hook(lambda mod, args, kwargs, out: kw.append(kwargs),
                                with_kwargs=True)
    m(x)
    h.remove()
    assert kw == [{}]
    order = []
    m.register_forward_pre_hook(lambda mod, a: order.append("second"))
    m.register_forward_pre_hook(lambda mod, a: order.append("first"), prepend=True)
    m(x)
    assert order == ["first", "second"]


def test_global_forward_hooks_see_every_module_in_call_order():
    from engine.nn.modules.module import (register_module_forward_hook,
                                          register_module_forward_pre_hook)
    net = engine.nn.Sequential(engine.nn.Linear(2, 3), engine.nn.ReLU())
    events = []
    h1 = register_module_forward_pre_hook(lambda mod, args: events.append(("pre", type(mod).__name__)))
    h2 = register_module_forward_hook(
        lambda mod, args, out: events.append(("post", type(mod).__name__, out.grad_fn.name())))
    try:
        net(engine.randn(1, 2, requires_grad=True))
    finally:
        h1.remove()
        h2.remove()
    assert events == [("pre", "Sequential"), ("pre", "Linear"),
                      ("post", "Linear", "AddmmBackward0"), ("pre", "ReLU"),
                      ("post", "ReLU", "ReluBackward0"), ("post", "Sequential", "ReluBackward0")]
    net(engine.randn(1, 2))
    assert len(events) == 6   # removed


def test_always_call_forward_hook_runs_on_error():
    class Boom(engine.nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    seen = []
    b = Boom()
    b.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        b(1)
    assert seen == [None]


def _backward_hook_run(T, x0, w0):
    nn = T.nn
    lin = nn.Linear(3, 2)
    with T.no_grad():
        lin.weight.copy_(T.tensor(w0))
        lin.bias.zero_()
    seq = nn.Sequential(lin, nn.Tanh())
    rec = []

    def hook(mod, gin, gout):
        rec.append(("full", type(mod).__name__, [None if g is None else to_np(g) for g in gin],
                    [to_np(g) for g in gout]))

    def pre(mod, gout):
        rec.append(("pre", type(mod).__name__, [to_np(g) for g in gout]))
    lin.register_full_backward_hook(hook)
    lin.register_full_backward_pre_hook(pre)
    seq[1].register_full_backward_hook(hook)
    x = T.tensor(x0, requires_grad=True)
    y = seq(x)
    y.sum().backward()
    return rec, y, to_np(x.grad)


def test_full_backward_hooks_match_torch():
    r = np.random.default_rng(5)
    x0 = r.standard_normal((4, 3)).astype(np.float32)
    w0 = r.standard_normal((2, 3)).astype(np.float32)
    er, ey, eg = _backward_hook_run(engine, x0, w0)
    tr, ty, tg = _backward_hook_run(torch, x0, w0)
    assert [(a[0], a[1]) for a in er] == [(a[0], a[1]) for a in tr]
    for a, b in zip(er, tr):
        for xs, ys in zip(a[2:], b[2:]):
            assert len(xs) == len(ys)
            for u, v in zip(xs, ys):
                if v is None:
                    assert u is None
                else:
                    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(eg, tg, rtol=1e-5, atol=1e-6)
    assert_same_dag(ey, ty, "graph with backward hooks")


def test_full_backward_hook_can_replace_grad_input():
    lin = engine.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0 + 7,))
    x = engine.randn(3, 2, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), np.full((3, 2), 7, np.float32))


def test_hooks_cost_nothing_when_absent():
    m = engine.nn.Linear(2, 2)
    y = m(engine.randn(1, 2, requires_grad=True))
    assert y.grad_fn.name() == "AddmmBackward0"   # no hook nodes in the way


def test_buffer_marker_and_plain_tensor_attributes():
    m = engine.nn.Module()
    m.stats = engine.nn.Buffer(engine.zeros(2))
    m.scratch = engine.nn.Buffer(engine.ones(1), persistent=False)
    m.plain = engine.ones(3)              # a plain tensor attribute is not registered
    assert list(m._buffers) == ["stats", "scratch"]
    assert type(m.stats) is engine.Tensor
    assert list(m.state_dict()) == ["stats"]
    assert "plain" not in m._buffers and "plain" not in m._parameters
    c = copy.copy(m)
    assert c.stats is m.stats


def test_forgotten_super_init_is_named():
    class NoInit(engine.nn.Module):
        def __init__(self):
            pass

        def forward(self, x):
            return x
    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        NoInit()(1)


def test_get_submodule_and_parameter():
    e = build(engine.nn)
    assert e.get_submodule("block.lin") is e.block.lin
    assert e.get_parameter("block.lin.weight") is e.block.lin.weight
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        e.get_submodule("block.nope")


def _param_containers(T):
    nn = T.nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.params = nn.ParameterList([nn.Parameter(T.ones(3, 4)) for _ in range(2)])
            self.pd = nn.ParameterDict({"left": nn.Parameter(T.ones(5, 2)),
                                        "right": T.ones(5, 2)})
            self.lin = nn.Linear(2, 2)

    return M()


def test_parameter_list_and_dict_match_torch():
    e, t = _param_containers(engine), _param_containers(torch)
    for m in (e, t):
        m.params.append(m.params[0].detach() * 0 + 2)  # a plain tensor becomes a Parameter
        m.params.extend([m.params[0].detach().double()])
        m.params.append(3)                              # kept as an object
        m.pd["new"] = m.pd["left"].detach() * 3
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert list(e.state_dict()) == list(t.state_dict())
    assert type(e.params[2]).__name__ == "Parameter" and e.params[2].requires_grad
    assert len(e.params) == 5 and len(e.params[1:3]) == 2 and list(e.pd) == list(t.pd)
    assert e.pd.get("zz") is None and "left" in e.pd and e.pd.pop("new").shape == (5, 2)
    assert repr(engine.nn.ParameterList()) == "ParameterList()"
    # optimizers and state dicts see them
    sd = {k: engine.tensor(v.detach().numpy() * 2) for k, v in t.state_dict().items()
          if k in e.state_dict()}
    e.load_state_dict(sd)
    assert e.params[0][0, 0].item() == 2.0 and e.pd["right"][0, 0].item() == 2.0
    opt = engine.optim.SGD(e.parameters(), lr=1.0)
    (e.params[0].sum() + e.pd["left"].sum()).backward()
    opt.step()
    assert e.params[0][0, 0].item() == 1.0 and e.pd["right"].grad is None
    with pytest.raises(RuntimeError, match="should not be called"):
        e.params(1)
