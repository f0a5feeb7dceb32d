"""The list of samples: name, script path and a one-line description each.

The GUI's File > Open sample menu and the README's gallery are built from
:data:`SAMPLES`, in this order (LeNet first: it is the window a new user sees first).
``variants`` are extra command-line arguments worth a second run (usually ``--fix``),
each with a short label. This module imports nothing but the standard library, so the
GUI can list the samples without importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Sample", "SAMPLES", "DEFAULT_SAMPLE", "SAMPLES_DIR", "get_sample", "sample_names",
           "gallery_markdown"]

SAMPLES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Sample:
    """One runnable sample script."""

    name: str
    description: str
    variants: tuple = ()  # ((label, (arg, ...)), ...)

    @property
    def path(self) -> Path:
        """Absolute path of the script."""
        return SAMPLES_DIR / f"{self.name}.py"

    @property
    def relative_path(self) -> str:
        """The path as a user types it from the repository root: ``samples/NAME.py``."""
        return f"samples/{self.name}.py"


SAMPLES = (
    Sample("lenet",
           "LeNet-5 from the PyTorch tutorial, trained on real handwritten digits to over 95% test accuracy"),
    Sample("linear_regression",
           "Fit a line with manual updates under no_grad and grad.zero_(): a graph small enough "
           "to step node by node"),
    Sample("vanishing_gradients",
           "A deep sigmoid MLP whose first layers get a million times less gradient than the last",
           (("ReLU + Kaiming init (--fix)", ("--fix",)),)),
    Sample("exploding_gradients",
           "A learning rate too high for a deep network: gradients explode until the loss is Inf",
           (("clip_grad_norm_ (--fix)", ("--fix",)),)),
    Sample("nan_hunt",
           "A hand-written cross-entropy whose hidden log(0) turns the gradients NaN after "
           "a few hundred steps",
           (("log_softmax (--fix)", ("--fix",)),)),
    Sample("shape_mismatch",
           "A forward pass that skips a layer: 'mat1 and mat2 shapes cannot be multiplied'",
           (("the complete forward pass (--fix)", ("--fix",)),)),
    Sample("custom_function",
           "A custom autograd.Function: a straight-through estimator for rounding",
           (("plain torch.round: no gradient below it (--plain-round)", ("--plain-round",)),)),
    Sample("higher_order",
           "A gradient penalty with create_graph=True: the gradient of a gradient"),
    Sample("char_rnn",
           "A character-level RNNCell unrolled over 200 characters: 1,610 nodes sharing "
           "the same weights"),
    Sample("gpt",
           "A character-level GPT (nanoGPT): causal self-attention blocks, an embedding tied "
           "to the output head",
           (("attention written out (--attention=manual)", ("--attention=manual",)),)),
    Sample("lstm_lm",
           "A word-level 2-layer LSTM language model: truncated backpropagation over 35-word "
           "windows, 944 nodes"),
)

#: The sample a new user sees first.
DEFAULT_SAMPLE = "lenet"


def sample_names() -> list:
    return [s.name for s in SAMPLES]


def get_sample(name: str) -> Sample:
    """The sample called ``name`` (``'lenet'``, ``'samples/lenet.py'`` and ``'lenet.py'`` all work)."""
    key = Path(name).stem
    for sample in SAMPLES:
        if sample.name == key:
            return sample
    raise KeyError(f"no sample named {name!r}; the samples are: {', '.join(sample_names())}")


def gallery_markdown() -> str:
    """The README's gallery: one Markdown bullet per sample, with its command line."""
    lines = []
    for sample in SAMPLES:
        extra = "".join(f" (also `{' '.join(args)}`)" for _, args in sample.variants)
        lines.append(f"- `python {sample.relative_path}`: {sample.description}{extra}")
    return "\n".join(lines) + "\n"
