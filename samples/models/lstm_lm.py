"""A 2-layer LSTM language model in the style of PyTorch's ``word_language_model`` example:
an embedding, ``nn.LSTM``, a linear decoder to the vocabulary, cross-entropy on the next
token, trained with truncated backpropagation through time: the token stream is cut into
windows of ``bptt`` steps, the hidden state is carried from one window to the next but
detached (``repackage_hidden``), so each backward pass stops at the window's start. Gradient
norms are clipped (``clip_grad_norm_``) before SGD (or Adam) steps.

``recipe(T, **config)`` trains on a learnable synthetic stream (a fixed random text
with word-like frequencies, repeated, each column of the batch from its own place in it,
continuous across windows); ``samples/lstm_lm.py`` trains the same model on words.
"""

from __future__ import annotations

import numpy as np

from . import Recipe, batch_rng, to_lib

#: The size the issue's benchmark times (2 layers of 256, 35 steps, batch 20) with the
#: 10,000-word vocabulary of the Penn Treebank that the PyTorch example trains on.
BENCH = dict(vocab=10000, embed=256, hidden=256, layers=2, bptt=35, batch=20)
#: A small size for parity tests.
SMALL = dict(vocab=23, embed=8, hidden=12, layers=2, bptt=6, batch=3)


def build_model(T, *, vocab, embed, hidden, layers, dropout=0.0, tie_weights=False):
    """The ``RNNModel`` over library ``T`` (``engine`` or ``torch``), instantiated."""
    nn = T.nn

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(vocab, embed)
            self.rnn = nn.LSTM(embed, hidden, layers, dropout=dropout)
            self.decoder = nn.Linear(hidden, vocab)
            if tie_weights:
                if hidden != embed:
                    raise ValueError("tied weights need hidden == embed")
                self.decoder.weight = self.encoder.weight
            self.layers, self.hidden = layers, hidden
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            """``input`` (seq, batch) token ids; returns (scores (seq, batch, vocab), hidden)."""
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            return self.decoder(self.drop(output)), hidden

        def init_hidden(self, batch):
            z = T.zeros(self.layers, batch, self.hidden)
            return z, z.clone()

    return RNNModel()


def repackage_hidden(h):
    """The hidden state cut from the graph that made it (truncated backpropagation)."""
    if isinstance(h, tuple):
        return tuple(repackage_hidden(v) for v in h)
    return h.detach()


def token_windows(i, batch, bptt, vocab):
    """(inputs, targets) int64 (bptt, batch): window ``i`` of a stream that repeats one
    fixed random text of ``4 * vocab`` tokens with Zipf-like frequencies (as words have),
    each column of the batch from its own place in it; targets are the next tokens, and
    window ``i + 1`` continues where window ``i`` stops."""
    rng = batch_rng(0)
    freq = 1.0 / np.arange(1, vocab + 1)
    text = rng.choice(vocab, size=4 * vocab, p=freq / freq.sum())
    start = rng.integers(0, text.size, batch)
    seq = text[(start + i * bptt + np.arange(bptt + 1)[:, None]) % text.size]
    return seq[:-1].astype(np.int64), seq[1:].astype(np.int64)


def recipe(T, *, vocab=SMALL["vocab"], embed=SMALL["embed"], hidden=SMALL["hidden"],
           layers=SMALL["layers"], bptt=SMALL["bptt"], batch=SMALL["batch"], dropout=0.0,
           optimizer="sgd", lr=None, clip=0.25) -> Recipe:
    model = build_model(T, vocab=vocab, embed=embed, hidden=hidden, layers=layers,
                        dropout=dropout)
    if optimizer == "sgd":
        opt = T.optim.SGD(model.parameters(), lr=2.0 if lr is None else lr)
    else:
        opt = T.optim.Adam(model.parameters(), lr=1e-2 if lr is None else lr)
    state = {"hidden": model.init_hidden(batch)}

    def step(i):
        x, y = to_lib(T, *token_windows(i, batch, bptt, vocab))
        hidden_in = repackage_hidden(state["hidden"])
        opt.zero_grad()
        scores, state["hidden"] = model(x, hidden_in)
        loss = T.nn.functional.cross_entropy(scores.view(-1, vocab), y.view(-1))
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss

    return Recipe(T, model, opt, step, state=state)
