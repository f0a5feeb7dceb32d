"""``engine.distributions``: probability distributions as in ``torch.distributions``, with
``sample``/``rsample``, ``log_prob``, ``entropy``, moments, shapes, argument validation
with PyTorch's error texts, and ``kl_divergence`` with a ``register_kl`` registry.

Everything is computed with engine ops, so ``log_prob``, ``entropy``, ``kl_divergence``
and ``rsample`` (the reparameterisation) are differentiable in the parameters. Random
draws differ from PyTorch's numbers (a different bit generator) but follow the same
distributions; ``utils`` names the three functions all draws come from.
"""

from . import constraints  # noqa: F401
from .bernoulli import Bernoulli  # noqa: F401
from .categorical import Categorical  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .exp_family import ExponentialFamily  # noqa: F401
from .exponential import Exponential  # noqa: F401
from .independent import Independent  # noqa: F401
from .kl import kl_divergence, register_kl  # noqa: F401
from .laplace import Laplace  # noqa: F401
from .normal import Normal  # noqa: F401
from .one_hot_categorical import OneHotCategorical  # noqa: F401
from .uniform import Uniform  # noqa: F401
