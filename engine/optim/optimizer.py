"""``Optimizer``: parameter groups, per-parameter state, state dicts, and the step event.

Every subclass's ``step`` is wrapped once (``__init_subclass__``) so that, when somebody
listens, the engine announces ``OptimizerStep(..., 'begin')`` before any parameter changes
and ``'end'`` after; with no listener the wrapper costs one truthiness check.
"""

from __future__ import annotations

import functools
from collections import defaultdict

from ..autograd import events
from ..autograd.events import _listeners
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _announce_step(step):
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if not _listeners:
            return step(self, *args, **kwargs)
        params = [p for g in self.param_groups for p in g["params"]]
        events.emit(events.OptimizerStep(self, params, "begin"))
        out = step(self, *args, **kwargs)
        events.emit(events.OptimizerStep(self, params, "end"))
        return out
    wrapper._announces = True
    return wrapper


class Optimizer:
    """Base class: subclasses define ``step`` updating ``p._data`` in place under no_grad."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_announces", False):
            cls.step = _announce_step(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + type(params).__name__)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(p).__name__)
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {k}")
            group.setdefault(k, v)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    p.grad._data[...] = 0
                    p.grad._vc[0] += 1

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):  # pragma: no cover - subclasses implement it
        raise NotImplementedError

    # -------------------------------------------------------------- state dicts
    def state_dict(self) -> dict:
        index = {}
        groups = []
        start = 0
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = list(range(start, start + len(g["params"])))
            for i, p in zip(ids, g["params"]):
                index[id(p)] = i
            packed["params"] = ids
            start += len(ids)
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, theirs in zip(self.param_groups, groups):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        id_map = {}
        for mine, theirs in zip(self.param_groups, groups):
            for p, i in zip(mine["params"], theirs["params"]):
                id_map[i] = p
        self.state = defaultdict(dict)
        for k, s in state_dict["state"].items():
            k = int(k)
            if k not in id_map:
                continue
            p = id_map[k]
            new = {}
            for name, v in s.items():
                if isinstance(v, Tensor):
                    v = v.detach().clone()
                    if name != "step" and v.is_floating_point():
                        v = v.to(p.dtype)
                new[name] = v
            self.state[p] = new
        for mine, theirs in zip(self.param_groups, groups):
            for k, v in theirs.items():
                if k != "params":
                    mine[k] = v

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        raise TypeError("optimizers are not picklable; save optimizer.state_dict() with "
                        "engine.save")


def _state_tensor(arr):
    """Optimizer state as an engine tensor (so state_dict and engine.save handle it)."""
    return Tensor._make(arr)


__all__ = ["Optimizer", "required"]
