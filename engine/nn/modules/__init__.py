"""The layer classes of ``engine.nn``."""

from .module import (Module, register_module_forward_hook,  # noqa: F401
                     register_module_forward_pre_hook, register_module_full_backward_hook,
                     register_module_full_backward_pre_hook)
from .container import ModuleDict, ModuleList, Sequential  # noqa: F401
from .parameter_containers import ParameterDict, ParameterList  # noqa: F401
from .linear import Bilinear, Identity, Linear  # noqa: F401
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6,  # noqa: F401
                         Sigmoid, SiLU, Softmax, Softmin, Tanh)
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss,  # noqa
                   MSELoss, NLLLoss, SmoothL1Loss)
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm  # noqa: F401
from .normalization import GroupNorm, LocalResponseNorm, RMSNorm  # noqa: F401
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: F401
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401
from .pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle  # noqa: F401
from .fold import Fold, Unfold  # noqa: F401
from .activation import (CELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish,  # noqa: F401
                         LogSigmoid, Mish, PReLU, Softplus, Softshrink, Softsign, Tanhshrink,
                         Softmax2d, Threshold)
from .loss import (CosineEmbeddingLoss, GaussianNLLLoss, KLDivLoss, MarginRankingLoss,  # noqa
                   MultiLabelSoftMarginLoss, PoissonNLLLoss, SoftMarginLoss, TripletMarginLoss)
from .distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from .padding import *  # noqa: F401,F403 - ZeroPad1d ... CircularPad3d
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from .sparse import Embedding  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .rnn import GRUCell, LSTMCell, RNNCell, RNNCellBase  # noqa: F401
from .rnn import GRU, LSTM, RNN, RNNBase  # noqa: F401


def _optional(modname, names):
    """Import layer classes written in parallel (convolution, pooling) once they exist."""
    import importlib
    try:
        mod = importlib.import_module(f"{__name__}.{modname}")
    except ModuleNotFoundError as e:
        if e.name != f"{__name__}.{modname}":
            raise
        return
    g = globals()
    for name in getattr(mod, "__all__", names):
        g[name] = getattr(mod, name)


_optional("conv", ("Conv1d", "Conv2d", "ConvTranspose2d"))
_optional("pooling", ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"))
del _optional
from .attention import MultiheadAttention  # noqa: E402,F401
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: E402,F401
                          TransformerEncoder, TransformerEncoderLayer)
