"""``engine.nn.utils``: gradient clipping, parameter/vector conversion, parametrizations
(``parametrize``, ``parametrizations.weight_norm`` / ``spectral_norm``) and the old
hook-based ``weight_norm``."""

from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                        clip_grads_with_norm_, get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import parametrize, parametrizations  # noqa: F401,E402
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401,E402
