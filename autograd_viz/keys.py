"""Stable node keys: the same node gets the same key in every iteration whose graph has
the same structure, so history, layout positions and breakpoints carry over.

Key forms (readable, and unambiguous: only op keys contain ``#`` after an op name):

- an op node: ``"<module path>/<op>#<ordinal>"`` (``"conv1/ConvolutionBackward0#0"``);
  ops built outside any module: ``"<op>#<ordinal>"`` (``"MulBackward0#2"``). The ordinal
  counts the nodes of that module and op in creation order (sequence number).
- a parameter's ``AccumulateGrad``: ``"param:<name>"`` (``"param:conv1.weight"``).
- another leaf's ``AccumulateGrad``: ``"leaf#<ordinal>"`` in discovery order from the roots.
"""

from __future__ import annotations

__all__ = ["op_key", "param_key", "leaf_key", "assign_keys", "split_key"]


def op_key(module: str, op: str, ordinal: int) -> str:
    return f"{module}/{op}#{ordinal}" if module else f"{op}#{ordinal}"


def param_key(name: str) -> str:
    return "param:" + name


def leaf_key(ordinal: int) -> str:
    return f"leaf#{ordinal}"


def split_key(key: str) -> tuple[str, str, str]:
    """(kind, module, name): kind 'op'/'param'/'leaf'; for an op ``name`` is the op name,
    for a parameter the parameter name."""
    if key.startswith("param:"):
        name = key[6:]
        return "param", name.rpartition(".")[0], name
    if key.startswith("leaf#"):
        return "leaf", "", key
    module, _, rest = key.rpartition("/")
    return "op", module, rest.partition("#")[0]


def assign_keys(items) -> list[str]:
    """Keys for ``items``, a sequence of ``(module, op, seq, param_name)`` in discovery
    order: ``param_name`` set for a parameter leaf, ``op == 'AccumulateGrad'`` with no
    name for another leaf; ``seq`` orders ops of the same module and op."""
    keys: list[str | None] = [None] * len(items)
    groups: dict[tuple[str, str], list[tuple[int, int]]] = {}
    n_leaf = 0
    seen_params: dict[str, int] = {}
    for i, (module, op, seq, pname) in enumerate(items):
        if pname is not None:
            k = param_key(pname)
            if k in seen_params:            # two leaves claiming one name: keep both distinct
                seen_params[k] += 1
                k = f"{k}~{seen_params[k]}"
            else:
                seen_params[k] = 0
            keys[i] = k
        elif op == "AccumulateGrad":
            keys[i] = leaf_key(n_leaf)
            n_leaf += 1
        else:
            groups.setdefault((module, op), []).append((seq, i))
    for (module, op), members in groups.items():
        members.sort()
        for ordinal, (_, i) in enumerate(members):
            keys[i] = op_key(module, op, ordinal)
    return keys  # type: ignore[return-value]
