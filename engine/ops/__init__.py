"""The differentiable ops, one module per family; ``engine`` re-exports them."""

from .arithmetic import (add, sub, mul, div, true_divide, neg, negative, pow, rsub, rdiv)  # noqa
from .unary import (exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, sin, cos, tanh, sigmoid,  # noqa
                    relu, abs, absolute, sign, floor, ceil, round, trunc, clamp, clip, clamp_min,
                    clamp_max, square)
from .select import maximum, minimum, where, masked_fill  # noqa
from .reduction import (sum, mean, var, std, max, min, amax, amin, argmax, argmin,  # noqa
                        logsumexp, norm, vector_norm, prod)
from .sorting import sort, argsort, topk  # noqa
from .linalg import mm, addmm, bmm, mv, dot, matmul  # noqa
from .shape import (view, reshape, flatten, unflatten, squeeze, unsqueeze, transpose,  # noqa
                    swapaxes, t, permute, movedim, expand, expand_as, broadcast_to, repeat, cat,
                    concat, concatenate, stack, hstack, vstack, split, chunk, unbind, narrow,
                    select)
from .indexing import (getitem, setitem, index_select, gather, take_along_dim,  # noqa
                       masked_select, nonzero)
from .convert import clone, contiguous, to_copy  # noqa
from .compare import (eq, ne, lt, le, gt, ge, greater, greater_equal, less, less_equal,  # noqa
                      not_equal, logical_and, logical_or, logical_xor, logical_not, isnan,
                      isinf, isfinite, all, any, equal, allclose, isclose, bitwise_not,
                      bitwise_and, bitwise_or, bitwise_xor)
from . import inplace  # noqa
