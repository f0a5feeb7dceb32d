"""``ParameterList`` and ``ParameterDict``: parameters held in a list or a dict, registered
on the module (so ``parameters()``, ``state_dict()`` and optimizers find them), as in
PyTorch. A plain tensor put in either becomes a ``Parameter``; other objects are kept as
they are (and printed as ``Object of type: int``)."""

from __future__ import annotations

import operator

from .module import Module
from ..parameter import Parameter
from ...autograd.node import _type_name
from ...tensor import Tensor

__all__ = ["ParameterList", "ParameterDict"]


def _as_parameter(value):
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _entry(key, value, type_text):
    """One line of the repr: ``  (0): Parameter containing: [torch.float32 of size 3x4]``."""
    if isinstance(value, Tensor):
        size = "x".join(str(s) for s in value.shape)
        dev = f" ({value.device})" if value.device.type == "cuda" else ""
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        return f"  ({key}): {kind} containing: [{type_text(value)} of size {size}{dev}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters, registered under the names '0', '1', ..."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _get_abs_string_index(self, idx):
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__([self[i] for i in range(len(self))[idx]])
        return getattr(self, self._get_abs_string_index(idx))

    def __setitem__(self, idx, param):
        setattr(self, self._get_abs_string_index(idx), _as_parameter(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        new_idx = len(self)
        self._size += 1
        setattr(self, str(new_idx), _as_parameter(value))
        return self

    def extend(self, values):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        # PyTorch prints the dtype here ('torch.float32'), the type name in ParameterDict
        return "\n".join(_entry(k, p, lambda t: str(t.dtype)) for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """An ordered dict of parameters, registered under their (string) keys."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        k = list(self._keys)[-1]
        return k, self.pop(k)

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def copy(self):
        return ParameterDict({k: v for k, v in self.items()})

    def update(self, parameters):
        if isinstance(parameters, (dict, ParameterDict)):
            items = parameters.items()
        elif hasattr(parameters, "__iter__"):
            items = []
            for j, kv in enumerate(parameters):
                if not hasattr(kv, "__len__") or len(kv) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} should be "
                                     "a (key, value) pair")
                items.append(kv)
        else:
            raise TypeError("ParameterDict.update should be called with an iterable of "
                            "key/value pairs, but got " + type(parameters).__name__)
        for k, v in items:
            self[k] = v

    def extra_repr(self) -> str:
        return "\n".join(_entry(k, p, lambda t: _type_name(t._data.dtype))
                         for k, p in self.items())

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")
