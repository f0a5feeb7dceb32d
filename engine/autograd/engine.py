"""The backward pass, as PyTorch's ``engine.cpp`` runs it.

1. Count dependencies: for every node reachable from the roots, how many edges point at it.
2. Each node gets an input buffer that sums the gradients arriving for each of its outputs.
3. A node whose count reaches zero is ready; among ready nodes the one with the highest
   sequence number (the most recently created) runs first. AccumulateGrad nodes carry the
   highest number, so a leaf's ``.grad`` is written as soon as it is complete.
4. The gradient a node returns for an input is reduced to that input's shape (summing
   broadcast dimensions) and cast to its dtype here, in one place, never op by op.

With ``inputs`` given (``autograd.grad`` or ``backward(inputs=...)``) only nodes on a path to
those inputs run; ``capture`` mode returns their gradients instead of accumulating.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from . import events
from .events import _listeners
from .. import threads as _threads
from .grad_mode import _state
from .node import AccumulateGrad, _anomaly, accumulate_into

__all__ = ["run_backward"]


def _reduce_to(g, shape, npdtype):
    """Sum ``g`` down to ``shape`` (undoing broadcasting) and cast to ``npdtype``."""
    gshape = g._data.shape
    if gshape != shape:
        nlead = len(gshape) - len(shape)
        if nlead < 0:
            g = g.reshape(shape)
        else:
            axes = tuple(range(nlead)) + tuple(
                nlead + i for i, s in enumerate(shape) if s == 1 and gshape[nlead + i] != 1)
            if axes:
                g = g.sum(axes, keepdim=True) if nlead == 0 else g.sum(axes)
            if g._data.shape != shape:
                g = g.reshape(shape)
    if g._data.dtype != npdtype:
        g = g.to(npdtype)
    return g


def _collect(roots):
    """Dependency counts of every node reachable from ``roots`` (edges pointing at it)."""
    deps = {}
    stack = list(dict.fromkeys(roots))
    seen = set(stack)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is None:
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps, seen


def _needed(roots, targets):
    """Nodes from which some target node is reachable (the only ones worth running)."""
    memo = {}
    target_ids = {id(t) for t in targets}

    # iterative post-order DFS
    for r in roots:
        if id(r) in memo:
            continue
        stack = [(r, iter(r.next_functions))]
        memo[id(r)] = id(r) in target_ids
        while stack:
            node, it = stack[-1]
            advanced = False
            for nxt, _ in it:
                if nxt is None:
                    continue
                if id(nxt) not in memo:
                    memo[id(nxt)] = id(nxt) in target_ids
                    stack.append((nxt, iter(nxt.next_functions)))
                    advanced = True
                    break
                if memo[id(nxt)]:
                    memo[id(node)] = True
            if not advanced:
                stack.pop()
                if stack and memo[id(node)]:
                    memo[id(stack[-1][0])] = True
    return {k for k, v in memo.items() if v}


def run_backward(root_tensors, seeds, retain_graph, create_graph, inputs=None, capture=False,
                 allow_unused=False):
    """Run backward from ``root_tensors`` seeded with ``seeds``.

    ``inputs``: tensors to restrict to (and, with ``capture``, whose gradients to return as a
    tuple instead of accumulating into ``.grad``).
    """
    if not _threads._blas["owned"]:
        _threads.own_blas()                 # from the first backward on, BLAS has one thread
    roots = []
    for t, s in zip(root_tensors, seeds):
        node = t.grad_fn if t.grad_fn is not None else t._grad_accumulator()
        roots.append((node, t._output_nr if t.grad_fn is not None else 0, s))

    targets = None
    capture_at = None
    if inputs is not None:
        targets = []
        capture_at = {}
        for i, x in enumerate(inputs):
            if x.grad_fn is not None:
                node, nr = x.grad_fn, x._output_nr
            else:
                if not x._requires_grad:
                    raise RuntimeError("One of the differentiated Tensors does not require grad")
                node, nr = x._grad_accumulator(), 0
            targets.append(node)
            capture_at.setdefault(id(node), []).append((nr, i))

    root_nodes = [r[0] for r in roots]
    deps, _ = _collect(root_nodes)
    needed = _needed(root_nodes, targets) if targets is not None else None

    results = [None] * (len(inputs) if inputs is not None else 0)
    prev_mode = _state.enabled
    _state.enabled = bool(create_graph)
    error = None
    # PyTorch never warns on inf/nan arithmetic; backward formulas meet them (inf * 0) on
    # purpose. One errstate per backward call, not per op.
    fp_quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
    fp_quiet.__enter__()
    try:
        if _listeners:  # inside the try: a listener that raises still restores grad mode
            order = len(deps) + sum(1 for n in root_nodes if n not in deps)
            events.emit(events.BackwardStarted(
                tuple((r[0], r[2]) for r in roots), tuple(root_tensors),
                tuple(inputs) if inputs is not None else None, create_graph, retain_graph, order))
        buffers = {}
        for node, nr, seed in roots:
            buf = buffers.get(node)
            if buf is None:
                buf = buffers[node] = [None] * len(node._meta)
            buf[nr] = seed if buf[nr] is None else buf[nr] + seed
        ready = []
        tie = 0
        for node in dict.fromkeys(root_nodes):
            if deps.get(node, 0) == 0 and (needed is None or id(node) in needed):
                heapq.heappush(ready, (-node._seq_nr, tie, node))
                tie += 1
        heappop, heappush = heapq.heappop, heapq.heappush
        while ready:
            node = heappop(ready)[2]
            grads = buffers.pop(node)
            hk = node._hk
            if hk is not None:
                grads = _call_pre_hooks(node, grads, hk)
            if capture_at is not None and id(node) in capture_at:
                for nr, i in capture_at[id(node)]:
                    results[i] = grads[nr]
                if capture and type(node) is AccumulateGrad:
                    continue
                if type(node) is not AccumulateGrad and not any(
                        nxt is not None and id(nxt) in needed for nxt, _ in node.next_functions):
                    continue
            if _listeners:
                events.emit(events.NodeStarted(node, tuple(grads)))
            if type(node) is AccumulateGrad:
                if grads[0] is not None:
                    accumulate_into(node, node.variable, grads[0])
                if _listeners:
                    events.emit(events.NodeFinished(node, tuple(grads), ()))
                continue
            nf = node.next_functions
            if len(grads) == 1:
                outs = node.apply(grads) if grads[0] is not None else (None,) * len(nf)
            elif all(g is None for g in grads):
                outs = (None,) * len(nf)
            else:
                outs = node.apply(_fill_missing(node, grads))
            if hk is not None and hk[1]:
                for fn in tuple(hk[1]):
                    r = fn(outs, tuple(grads))
                    if r is not None:
                        outs = tuple(r)
            if not retain_graph and node._saved_names:
                node._release_saved()
            if len(outs) != len(nf):
                raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                                   f"gradients (expected {len(nf)}, got {len(outs)})")
            track = _listeners or _anomaly[0]
            reduced = [] if track else None
            for (nxt, nr), g in zip(nf, outs):
                if nxt is None or (needed is not None and id(nxt) not in needed):
                    if track:
                        reduced.append(None)
                    continue
                if g is not None:
                    shape, npdt, _ = nxt._meta[nr]
                    gd = g._data
                    if gd.shape != shape or gd.dtype != npdt:
                        g = _reduce_to(g, shape, npdt)
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * len(nxt._meta)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                if track:
                    reduced.append(g)
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    if nxt not in buffers:
                        buffers[nxt] = [None] * len(nxt._meta)
                    heappush(ready, (-nxt._seq_nr, tie, nxt))
                    tie += 1
            if _anomaly[0] and _anomaly[1]:
                _check_anomaly(node, reduced)
            if _listeners:
                events.emit(events.NodeFinished(node, tuple(grads), tuple(reduced)))
    except BaseException as e:
        error = e
        raise
    finally:
        fp_quiet.__exit__(None, None, None)
        _state.enabled = prev_mode
        if _listeners:
            events.emit(events.BackwardFinished(tuple(r[0] for r in roots), error))

    if inputs is not None and not capture:
        for x, g in zip(inputs, results):
            if g is not None and x.grad_fn is not None:
                x.grad = g.detach().clone() if x.grad is None else x.grad + g
        return None
    if inputs is not None and capture:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        return tuple(results)
    return None


def _fill_missing(node, grads):
    """Outputs with no gradient get zeros when another output of the node has one."""
    if len(grads) == 1 or all(g is not None for g in grads):
        return grads
    from ..creation import zeros
    out = list(grads)
    for i, g in enumerate(out):
        if g is None:
            shape, npdt, dev = node._meta[i]
            out[i] = zeros(shape, dtype=npdt, device=dev)
    return out


def _call_pre_hooks(node, grads, hk):
    """Tensor hooks (per output), then node pre-hooks; each may replace gradients."""
    if hk[2]:
        for nr, fn in tuple(hk[2]):
            if grads[nr] is not None:
                r = fn(grads[nr])
                if r is not None:
                    grads[nr] = r
    if hk[0]:
        for fn in tuple(hk[0]):
            r = fn(tuple(grads))
            if r is not None:
                grads = list(r)
    return grads


def _check_anomaly(node, grads):
    for i, g in enumerate(grads):
        if g is None:
            continue
        xp_arr = g._data
        bad = not bool((abs(xp_arr) < math.inf).all()) if xp_arr.dtype.kind == "f" else False
        if bad:
            where = node.metadata.get("traceback_", "")
            msg = (f"Function '{node.name()}' returned nan values in its {i}th output.")
            if where:
                msg += ("\nThe forward call that created this node (detect_anomaly traceback):\n"
                        + where)
            raise RuntimeError(msg)
