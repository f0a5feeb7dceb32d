"""grad_fn class names and next_functions structure compared with PyTorch's, recursively,
for expressions covering every op family (scalar forms, views, indexing, in-place)."""

import pytest
import torch

import engine

from _parity import assert_same_graph

EXPRS = {
 "x*2": (lambda T,x: x*2, [(3,)]),
 "2*x": (lambda T,x: 2*x, [(3,)]),
 "x+2": (lambda T,x: x+2, [(3,)]),
 "2+x": (lambda T,x: 2+x, [(3,)]),
 "x-2": (lambda T,x: x-2, [(3,)]),
 "2-x": (lambda T,x: 2-x, [(3,)]),
 "x/2": (lambda T,x: x/2, [(3,)]),
 "2/x": (lambda T,x: 2/x, [(3,)]),
 "x**2": (lambda T,x: x**2, [(3,)]),
 "x**0.5": (lambda T,x: x**0.5, [(3,)]),
 "2**x": (lambda T,x: 2**x, [(3,)]),
 "x**y": (lambda T,x,y: x**y, [(3,),(3,)]),
 "-x": (lambda T,x: -x, [(3,)]),
 "x+y": (lambda T,x,y: x+y, [(2,3),(3,)]),
 "x-y": (lambda T,x,y: x-y, [(2,3),(3,)]),
 "x*y": (lambda T,x,y: x*y, [(2,3),(3,)]),
 "x/y": (lambda T,x,y: x/y, [(2,3),(3,)]),
 "x@y": (lambda T,x,y: x@y, [(2,3),(3,4)]),
 "x@v": (lambda T,x,y: x@y, [(2,3),(3,)]),
 "v@x": (lambda T,x,y: x@y, [(3,),(3,4)]),
 "v@v": (lambda T,x,y: x@y, [(3,),(3,)]),
 "b@b": (lambda T,x,y: x@y, [(2,2,3),(2,3,4)]),
 "b@m": (lambda T,x,y: x@y, [(2,2,3),(3,4)]),
 "m@b": (lambda T,x,y: x@y, [(2,3),(5,3,4)]),
 "bb@b": (lambda T,x,y: x@y, [(2,1,2,3),(3,3,4)]),
 "b@v": (lambda T,x,y: x@y, [(2,2,3),(3,)]),
 "v@b": (lambda T,x,y: x@y, [(3,),(2,3,4)]),
 "abs": (lambda T,x: x.abs(), [(3,)]),
 "exp": (lambda T,x: T.exp(x), [(3,)]),
 "log": (lambda T,x: T.log(x), [(3,)]),
 "sqrt": (lambda T,x: x.sqrt(), [(3,)]),
 "sin": (lambda T,x: x.sin(), [(3,)]),
 "cos": (lambda T,x: x.cos(), [(3,)]),
 "tanh": (lambda T,x: x.tanh(), [(3,)]),
 "sigmoid": (lambda T,x: x.sigmoid(), [(3,)]),
 "relu": (lambda T,x: x.relu(), [(3,)]),
 "T.relu": (lambda T,x: T.relu(x), [(3,)]),
 "clamp": (lambda T,x: x.clamp(0,1), [(3,)]),
 "clamp_min": (lambda T,x: x.clamp(min=0), [(3,)]),
 "clamp_max": (lambda T,x: x.clamp(max=0), [(3,)]),
 "clamp_t": (lambda T,x,y: x.clamp(min=y), [(3,),(3,)]),
 "pow": (lambda T,x: T.pow(x,3), [(3,)]),
 "pow_t": (lambda T,x,y: T.pow(x,y), [(3,),(3,)]),
 "maximum": (lambda T,x,y: T.maximum(x,y), [(2,3),(3,)]),
 "minimum": (lambda T,x,y: T.minimum(x,y), [(2,3),(3,)]),
 "where": (lambda T,x,y: T.where(x>2,x,y), [(2,3),(3,)]),
 "where_s": (lambda T,x: T.where(x>2,x,0.0), [(2,3)]),
 "sum": (lambda T,x: x.sum(), [(2,3)]),
 "sum1": (lambda T,x: x.sum(1), [(2,3)]),
 "sumk": (lambda T,x: x.sum(1, keepdim=True), [(2,3)]),
 "mean": (lambda T,x: x.mean(), [(2,3)]),
 "mean1": (lambda T,x: x.mean(0), [(2,3)]),
 "var": (lambda T,x: x.var(), [(2,3)]),
 "var1": (lambda T,x: x.var(1), [(2,3)]),
 "std": (lambda T,x: x.std(), [(2,3)]),
 "std1": (lambda T,x: x.std(1), [(2,3)]),
 "max": (lambda T,x: x.max(), [(2,3)]),
 "max0": (lambda T,x: x.max(0)[0], [(2,3)]),
 "max0v": (lambda T,x: x.max(0).values, [(2,3)]),
 "min": (lambda T,x: x.min(), [(2,3)]),
 "min1": (lambda T,x: x.min(1)[0], [(2,3)]),
 "amax": (lambda T,x: x.amax(1), [(2,3)]),
 "amax_all": (lambda T,x: x.amax(), [(2,3)]),
 "lse": (lambda T,x: x.logsumexp(1), [(2,3)]),
 "norm": (lambda T,x: x.norm(), [(2,3)]),
 "Tnorm": (lambda T,x: T.norm(x), [(2,3)]),
 "norm1": (lambda T,x: x.norm(dim=1), [(2,3)]),
 "normp1": (lambda T,x: x.norm(p=1), [(2,3)]),
 "reshape": (lambda T,x: x.reshape(3,2), [(2,3)]),
 "reshape_nc": (lambda T,x: x.t().reshape(6), [(2,3)]),
 "view": (lambda T,x: x.view(3,2), [(2,3)]),
 "view-1": (lambda T,x: x.view(-1), [(2,3)]),
 "flatten": (lambda T,x: x.flatten(), [(2,3,2)]),
 "flatten1": (lambda T,x: x.flatten(1), [(2,3,2)]),
 "flatten_1d": (lambda T,x: x.flatten(), [(3,)]),
 "squeeze": (lambda T,x: x.squeeze(), [(2,1,3)]),
 "squeeze1": (lambda T,x: x.squeeze(1), [(2,1,3)]),
 "squeeze0": (lambda T,x: x.squeeze(0), [(2,1,3)]),
 "squeezet": (lambda T,x: x.squeeze((0,1)), [(2,1,3)]),
 "unsqueeze": (lambda T,x: x.unsqueeze(0), [(2,3)]),
 "transpose": (lambda T,x: x.transpose(0,1), [(2,3)]),
 "permute": (lambda T,x: x.permute(1,0,2), [(2,3,2)]),
 "t": (lambda T,x: x.t(), [(2,3)]),
 "T": (lambda T,x: x.T, [(2,3)]),
 "T3": (lambda T,x: x.mT, [(2,3,4)]),
 "expand": (lambda T,x: x.expand(4,3), [(1,3)]),
 "expand_same": (lambda T,x: x.expand(1,3), [(1,3)]),
 "repeat": (lambda T,x: x.repeat(2,2), [(2,3)]),
 "cat": (lambda T,x,y: T.cat([x,y]), [(2,3),(1,3)]),
 "cat1": (lambda T,x,y: T.cat([x,y],1), [(2,3),(2,1)]),
 "stack": (lambda T,x,y: T.stack([x,y]), [(2,3),(2,3)]),
 "split": (lambda T,x: x.split(1)[1], [(2,3)]),
 "split_sizes": (lambda T,x: x.split([1,2],1)[1], [(2,3)]),
 "chunk": (lambda T,x: x.chunk(2)[1], [(4,3)]),
 "chunk_uneven": (lambda T,x: x.chunk(2,1)[1], [(4,3)]),
 "unbind": (lambda T,x: x.unbind()[1], [(4,3)]),
 "idx_int": (lambda T,x: x[0], [(4,3)]),
 "idx_slice": (lambda T,x: x[1:], [(4,3)]),
 "idx_slice2": (lambda T,x: x[1:, 0], [(4,3)]),
 "idx_ell": (lambda T,x: x[..., 0], [(4,3)]),
 "idx_ell2": (lambda T,x: x[...], [(4,3)]),
 "idx_colon": (lambda T,x: x[:], [(4,3)]),
 "idx_none": (lambda T,x: x[None], [(4,3)]),
 "idx_none2": (lambda T,x: x[:, None], [(4,3)]),
 "idx_arr": (lambda T,x: x[T.tensor([0,2])], [(4,3)]),
 "idx_list": (lambda T,x: x[[0,2]], [(4,3)]),
 "idx_bool": (lambda T,x: x[x>2], [(4,3)]),
 "idx_2arr": (lambda T,x: x[[0,1],[1,2]], [(4,3)]),
 "idx_mix": (lambda T,x: x[1:, [0,2]], [(4,3)]),
 "idx_step": (lambda T,x: x[::2], [(4,3)]),
 "idx_neg": (lambda T,x: x[-1], [(4,3)]),
 "setitem": (lambda T,x,y: _set(T,x,y), [(4,3),(3,)]),
 "clone": (lambda T,x: x.clone(), [(3,)]),
 "to64": (lambda T,x: x.double(), [(3,)]),
 "contig": (lambda T,x: x.t().contiguous(), [(2,3)]),
 "narrow": (lambda T,x: x.narrow(0,1,2), [(4,3)]),
 "select": (lambda T,x: x.select(1,1), [(4,3)]),
 "index_select": (lambda T,x: x.index_select(0,T.tensor([0,2])), [(4,3)]),
 "gather": (lambda T,x: x.gather(1,T.tensor([[0],[1],[2],[0]])), [(4,3)]),
 "masked_fill": (lambda T,x: x.masked_fill(x>2, 0.), [(4,3)]),
 "addmm": (lambda T,b,x,y: T.addmm(b,x,y), [(4,),(2,3),(3,4)]),
 "prod": (lambda T,x: x.prod(), [(4,3)]),
 "prod1": (lambda T,x: x.prod(1), [(4,3)]),
 "square": (lambda T,x: x.square(), [(3,)]),
 "rsqrt": (lambda T,x: x.rsqrt(), [(3,)]),
 "recip": (lambda T,x: x.reciprocal(), [(3,)]),
 "log1p": (lambda T,x: x.log1p(), [(3,)]),
 "expm1": (lambda T,x: x.expm1(), [(3,)]),
 "sign": (lambda T,x: x.sign(), [(3,)]),
 "floor": (lambda T,x: x.floor(), [(3,)]),
 "movedim": (lambda T,x: x.movedim(0,1), [(4,3)]),
 "unflatten": (lambda T,x: x.unflatten(1,(3,1)), [(4,3)]),
 "expand_as": (lambda T,x,y: x.expand_as(y), [(1,3),(4,3)]),
 "iadd": (lambda T,x: _iadd(x), [(3,)]),
 "imul": (lambda T,x: _imul(x), [(3,)]),
 "isub_t": (lambda T,x,y: _isub(x,y), [(3,),(3,)]),
 "relu_": (lambda T,x: (x*1).relu_(), [(3,)]),
 "clamp_": (lambda T,x: (x*1).clamp_(0,1), [(3,)]),
 "zero_": (lambda T,x: (x*1).zero_(), [(3,)]),
 "fill_": (lambda T,x: (x*1).fill_(2), [(3,)]),
 "copy_": (lambda T,x,y: (x*1).copy_(y), [(3,),(3,)]),
 "div_": (lambda T,x: (x*1).div_(2), [(3,)]),
 "add_t": (lambda T,x,y: (x*1).add_(y, alpha=2), [(3,),(3,)]),
 "add_alpha": (lambda T,x,y: T.add(x,y,alpha=2), [(3,),(3,)]),
 "sub_alpha": (lambda T,x,y: T.sub(x,y,alpha=2), [(3,),(3,)]),
 "dot": (lambda T,x,y: T.dot(x,y), [(3,),(3,)]),
 "mv": (lambda T,x,y: T.mv(x,y), [(2,3),(3,)]),
 "bmm": (lambda T,x,y: T.bmm(x,y), [(2,2,3),(2,3,4)]),
 "mm": (lambda T,x,y: T.mm(x,y), [(2,3),(3,4)]),
 "argmax": (lambda T,x: x*x.argmax(), [(3,)]),
 "vstack2": (lambda T,x,y: T.vstack([x,y]), [(2,3),(1,3)]),
 "fill_t": (lambda T,x,y: (x*1).fill_(y.sum()), [(3,),(2,)]),
 "squeeze_": (lambda T,x: (x*1).unsqueeze(0).squeeze_(), [(3,)]),
 "unsqueeze_": (lambda T,x: (x*1).unsqueeze_(1), [(3,)]),
 "clamp_min_fn": (lambda T,x: T.clamp_min(x, 0.), [(3,)]),
 "clamp_min_t": (lambda T,x,y: T.clamp_min(x, y), [(3,),(3,)]),
 "clamp_max_t": (lambda T,x,y: x.clamp(max=y), [(3,),(3,)]),
 "idx_tuple_alias": (lambda T,x: x[:, :], [(4,3)]),
 "idx_int_arr3": (lambda T,x: x[0, :, [0,1]], [(2,3,4)]),
 "idx_none_ell": (lambda T,x: x[None, ..., 0], [(2,3)]),
 "m@b_nograd": (lambda T,x,y: x.detach()@y, [(2,3),(5,3,4)]),
 "b@m_nograd": (lambda T,x,y: x@y.detach(), [(2,2,3),(3,4)]),
 "v@b_nograd": (lambda T,x,y: x.detach()@y, [(3,),(2,3,4)]),
 "bb@v": (lambda T,x,y: x@y.detach(), [(2,2,2,3),(3,)]),
 "b@bb": (lambda T,x,y: x@y, [(2,3),(4,1,3,5)]),
 "x0.T": (lambda T,x: x.sum().t(), [(3,)]),
 "linear": (lambda T,x,w,b: T.addmm(b, x, w.t()), [(2,3),(4,3),(4,)]),
 "mlp": (lambda T,x,w,b: ((x @ w.t() + b).relu() ** 2).mean(), [(2,3),(4,3),(4,)]),
 "diamond": (lambda T,x: (x.exp() * x.sin()).sum(), [(3,)]),
 "abs_op": (lambda T,x: abs(x), [(3,)]),
 "amin": (lambda T,x: x.amin(1), [(2,3)]),
 "true_div": (lambda T,x,y: T.true_divide(x,y), [(3,),(3,)]),
 "sum_dtype": (lambda T,x: x.sum(dtype=T.float64), [(3,)]),
 "sum_tuple": (lambda T,x: x.sum((0,1)), [(2,3)]),
 "mean_tuple": (lambda T,x: x.mean((0,1)), [(2,3)]),
 "vnorm": (lambda T,x: T.linalg.vector_norm(x) if hasattr(T,'linalg') else x, [(2,3)]),
 "matmul_fn": (lambda T,x,y: T.matmul(x,y), [(2,3),(3,4)]),
 "x.pow(2)": (lambda T,x: x.pow(2), [(3,)]),
 "x.pow(t)": (lambda T,x,y: x.pow(y), [(3,),(3,)]),
 "hstack": (lambda T,x,y: T.hstack([x,y]), [(3,),(3,)]),
 "vstack": (lambda T,x,y: T.vstack([x,y]), [(3,),(3,)]),
 "x.float": (lambda T,x: x.float(), [(3,)]),
 "x.to64": (lambda T,x: x.to(T.float64), [(3,)]),
 "x[0,1]": (lambda T,x: x[0,1], [(4,3)]),
 "x[:,1:2]": (lambda T,x: x[:, 1:2], [(4,3)]),
 "clamp_int": (lambda T,x: x.clamp(-1, 1), [(3,)]),
}
def _set(T,x,y):
    z = x*1; z[0] = y; return z
def _iadd(x):
    z = x*1; z += 1; return z
def _imul(x):
    z = x*1; z *= x; return z
def _isub(x,y):
    z = x*1; z -= y; return z


def _set(T, x, y):
    z = x * 1
    z[0] = y
    return z


def _iadd(x):
    z = x * 1
    z += 1
    return z


def _imul(x):
    z = x * 1
    z *= x
    return z


def _isub(x, y):
    z = x * 1
    z -= y
    return z


@pytest.mark.parametrize("label", list(EXPRS))
def test_graph_matches_torch(label):
    fn, shapes = EXPRS[label]
    assert_same_graph(fn, shapes, label)


def test_name_and_accumulate_grad_variable():
    x = engine.ones(2, requires_grad=True)
    y = (x * 2).sum()
    assert y.grad_fn.name() == "SumBackward0"
    acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    # the same leaf gives the same AccumulateGrad while a graph holds it
    z = x * 3
    assert z.grad_fn.next_functions[0][0] is acc


def test_no_node_without_grad_mode_or_requires_grad():
    x = engine.ones(2, requires_grad=True)
    with engine.no_grad():
        assert (x * 2).grad_fn is None
    assert (engine.ones(2) * 2).grad_fn is None
    assert (x > 0).grad_fn is None and not (x > 0).requires_grad
    assert x.argmax().grad_fn is None


def test_sequence_numbers_increase_in_creation_order():
    x = engine.ones(2, requires_grad=True)
    a = x * 2
    b = a + 1
    assert b.grad_fn._sequence_nr() > a.grad_fn._sequence_nr()


def test_output_meta_and_metadata():
    x = engine.ones(2, 3, requires_grad=True)
    y = x.split(1)
    meta = y[0].grad_fn._output_meta
    assert [m[0] for m in meta] == [engine.Size([1, 3]), engine.Size([1, 3])]
    assert meta[0][1] is engine.float32 and str(meta[0][2]) == "cpu"
    y[0].grad_fn.metadata["k"] = 1
    assert y[1].grad_fn.metadata == {"k": 1}


def test_metadata_read_skips_the_python_getattr(monkeypatch):
    """The debugger reads ``metadata`` of every node created: for a node made by an op
    (and an AccumulateGrad) that read must not fall back to ``Node.__getattr__`` (the
    ``_saved_*`` lookup, several times slower); a node no op linked still works."""
    from engine.autograd.node import Node
    calls = []
    original = Node.__getattr__

    def counting(self, name):
        calls.append(name)
        return original(self, name)

    monkeypatch.setattr(Node, "__getattr__", counting)
    x = engine.ones(2, requires_grad=True)
    y = x * 3
    assert y.grad_fn.metadata == {} and y.grad_fn.metadata is y.grad_fn.metadata
    acc = y.grad_fn.next_functions[0][0]
    acc.metadata["k"] = 1
    assert acc.metadata == {"k": 1} and calls == []

    class Bare(Node):
        __slots__ = ()

    bare = Bare()
    bare.metadata["k"] = 2
    assert bare.metadata == {"k": 2}


def test_saved_tensors_by_their_pytorch_names():
    """Autograd mechanics: ``grad_fn._saved_self`` is the input itself, ``_saved_result``
    a new tensor equal to the output; scalars come back as numbers; freed after backward."""
    for T in (engine, torch):
        x = T.randn(5, requires_grad=True)
        y = x.pow(2)
        assert y.grad_fn._saved_self is x and y.grad_fn._saved_exponent == 2
        y = x.exp()
        r = y.grad_fn._saved_result
        assert r is not y and r.equal(y)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.grad_fn._saved_result
        with pytest.raises(AttributeError):
            y.grad_fn._saved_nothing_like_this
        with pytest.raises(AttributeError):
            y.grad_fn.not_an_attribute
