"""A bidirectional GRU sequence classifier on packed variable-length sequences: token
embeddings (padding index 0), ``pack_padded_sequence(..., enforce_sorted=False)`` so the GRU
reads each sequence only up to its own length, the final forward and backward states
(``h_n``, taken at each sequence's own last step and first step) joined with the mean of
the outputs over the real steps (``pad_packed_sequence``), a linear layer to class scores,
cross-entropy, Adam.

``recipe(T, **config)`` trains on batches of random token sequences of random lengths whose
class is the sum of the first and the last token modulo the number of classes: both ends
matter, which the two directions' final states see.
"""

from __future__ import annotations

import numpy as np

from . import Recipe, batch_rng, to_lib

#: A benchmark size: batch 32 of sequences up to 50 tokens, 128 hidden units each way.
BENCH = dict(vocab=1000, embed=64, hidden=128, classes=4, batch=32, max_len=50)
#: A small size for parity tests.
SMALL = dict(vocab=17, embed=6, hidden=8, classes=3, batch=5, max_len=7)


def build_model(T, *, vocab, embed, hidden, classes):
    """The classifier over library ``T`` (``engine`` or ``torch``), instantiated."""
    nn = T.nn
    rnn_utils = T.nn.utils.rnn

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
            self.gru = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(4 * hidden, classes)

        def forward(self, tokens, lengths):
            """``tokens`` (batch, max_len) padded with 0, ``lengths`` (batch,) int64."""
            packed = rnn_utils.pack_padded_sequence(self.embedding(tokens), lengths,
                                                    batch_first=True, enforce_sorted=False)
            out, h_n = self.gru(packed)
            padded, lens = rnn_utils.pad_packed_sequence(out, batch_first=True)
            mean = padded.sum(1) / lens.unsqueeze(1).to(padded.dtype)
            return self.head(T.cat([h_n[-2], h_n[-1], mean], dim=1))

    return GRUClassifier()


def sequences(i, batch, max_len, vocab, classes):
    """(tokens (batch, max_len) padded with 0, lengths, labels) for batch ``i``: lengths
    between 1 and ``max_len`` in no order, tokens 1..vocab-1, label (first + last) % classes."""
    rng = batch_rng(i)
    lengths = rng.integers(1, max_len + 1, batch)
    lengths[0] = max_len
    rng.shuffle(lengths)
    tokens = rng.integers(1, vocab, (batch, max_len))
    tokens[np.arange(max_len)[None, :] >= lengths[:, None]] = 0
    labels = (tokens[:, 0] + tokens[np.arange(batch), lengths - 1]) % classes
    return tokens.astype(np.int64), lengths.astype(np.int64), labels.astype(np.int64)


def recipe(T, *, vocab=SMALL["vocab"], embed=SMALL["embed"], hidden=SMALL["hidden"],
           classes=SMALL["classes"], batch=SMALL["batch"], max_len=SMALL["max_len"],
           lr=1e-2) -> Recipe:
    model = build_model(T, vocab=vocab, embed=embed, hidden=hidden, classes=classes)
    opt = T.optim.Adam(model.parameters(), lr=lr)

    def step(i):
        tokens, lengths, labels = sequences(i, batch, max_len, vocab, classes)
        x, y = to_lib(T, tokens, labels)
        opt.zero_grad()
        # lengths stay a CPU tensor, as pack_padded_sequence wants them
        loss = T.nn.functional.cross_entropy(model(x, T.from_numpy(lengths)), y)
        loss.backward()
        opt.step()
        return loss

    return Recipe(T, model, opt, step)
