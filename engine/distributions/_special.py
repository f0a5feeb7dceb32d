"""The special functions the Gamma family needs (``lgamma``, ``digamma``, ``xlogy``), taken
from the engine's ops once they exist there (issue 14's ``torch.special`` work)."""

from __future__ import annotations

from .. import ops as _ops

lgamma = _ops.lgamma
digamma = _ops.digamma
xlogy = _ops.xlogy
