"""A word-level LSTM language model with truncated backpropagation through time.

The model is PyTorch's ``word_language_model`` example (``samples/models/lstm_lm.py``): word
embeddings, a 2-layer ``nn.LSTM``, a linear decoder to the vocabulary. The text is cut into
``--batch-size`` parallel streams and read in windows of ``--bptt`` words; the LSTM's hidden
state runs on from one window to the next but is detached at each window's start, so every
backward pass covers one window (``--bptt`` unrolled steps of both layers, each step's gates
``UnsafeSplitBackward0`` -> sigmoid/tanh -> the products of the cell update) and stops there.
Gradient norms are clipped before each SGD step, as in the example.

The text ships with Python: every docstring (modules, classes, functions) of a few
standard-library modules, read from their source files with ``ast`` (so it works under
``python -OO``), split into words and punctuation. After training the script prints the
perplexity and a few sentences the model writes.

Run it:
    python samples/lstm_lm.py
    python samples/lstm_lm.py --steps 2
    python samples/lstm_lm.py --bptt 10 --hidden 64      # a smaller graph to step through
"""

from __future__ import annotations

import argparse
import ast
import collections
import importlib.util
import math
import re

import numpy as np

import engine as torch
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim

from samples.char_rnn import TEXT_MODULES, count_nodes
from samples.models.lstm_lm import build_model, repackage_hidden

WORD = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")
EOS = "<eos>"


def load_words(modules=TEXT_MODULES) -> list:
    """Every docstring in the modules' source, as lower-case words and punctuation, each
    docstring ended by ``<eos>``."""
    words = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    words += WORD.findall(doc.lower()) + [EOS]
    if not words:
        raise RuntimeError(f"none of the modules {modules} has a docstring to train on")
    return words


class Corpus:
    """The words as ids (most frequent first), laid out as ``batch_size`` parallel streams."""

    def __init__(self, words, batch_size: int):
        counts = collections.Counter(words)
        self.words = [w for w, _ in counts.most_common()]
        self.index = {w: i for i, w in enumerate(self.words)}
        ids = np.array([self.index[w] for w in words], dtype=np.int64)
        n = len(ids) // batch_size
        self.streams = ids[:n * batch_size].reshape(batch_size, n).T.copy()   # (n, batch)

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    def windows(self, bptt: int):
        """Start rows of the successive windows of one pass over the streams."""
        return range(0, self.streams.shape[0] - 1, bptt)

    def window(self, start: int, bptt: int):
        """``(inputs, targets)`` (seq, batch): rows ``start..`` and the same shifted by one."""
        seq = min(bptt, self.streams.shape[0] - 1 - start)
        block = self.streams[start:start + seq + 1]
        return torch.tensor(block[:-1]), torch.tensor(block[1:])


def generate(model, corpus: Corpus, length: int, rng, temperature=0.8) -> str:
    """``length`` words sampled from the model, starting after an ``<eos>``."""
    word = corpus.index[EOS]
    hidden = model.init_hidden(1)
    out = []
    model.eval()
    with torch.no_grad():
        for _ in range(length):
            scores, hidden = model(torch.tensor([[word]]), hidden)
            probs = F.softmax(scores[0, 0] / temperature, dim=0).numpy().astype(np.float64)
            word = int(rng.choice(len(probs), p=probs / probs.sum()))
            out.append(corpus.words[word])
    model.train()
    text = " ".join(out).replace(f" {EOS} ", "\n").replace(EOS, "")
    return re.sub(r" ([.,:;!?)])", r"\1", text)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="number of optimizer iterations")
    parser.add_argument("--bptt", type=int, default=35, help="words per window (unrolled steps)")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--embed", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=20.0)
    parser.add_argument("--clip", type=float, default=0.25, help="gradient norm limit")
    parser.add_argument("--print-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train window after window over the streams; print the loss, then generated text."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    corpus = Corpus(load_words(), args.batch_size)
    print(f"text: {corpus.streams.size} words from the docstrings of "
          f"{', '.join(TEXT_MODULES)}; {corpus.vocab_size} distinct")
    model = build_model(torch, vocab=corpus.vocab_size, embed=args.embed, hidden=args.hidden,
                        layers=args.layers, dropout=args.dropout)
    print(model)
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    windows = list(corpus.windows(args.bptt))
    hidden = model.init_hidden(args.batch_size)

    for step in range(1, args.steps + 1):
        k = (step - 1) % len(windows)
        if k == 0:
            hidden = model.init_hidden(args.batch_size)   # a new pass over the text
        inputs, targets = corpus.window(windows[k], args.bptt)
        hidden = repackage_hidden(hidden)
        optimizer.zero_grad()
        scores, hidden = model(inputs, hidden)
        loss = F.cross_entropy(scores.view(-1, corpus.vocab_size), targets.view(-1))
        if step == 1:
            print(f"one window's backward graph: {count_nodes(loss)} nodes ({inputs.shape[0]} "
                  f"unrolled steps of {args.layers} LSTM layers)")
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        if step % args.print_every == 0 or step == 1 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.4f}  perplexity "
                  f"{math.exp(min(loss.item(), 50)):8.1f}", flush=True)

    sample = generate(model, corpus, 40, np.random.default_rng(args.seed))
    print("sample:", sample)
    return {"loss": loss.item(), "steps": args.steps, "sample": sample,
            "vocab": corpus.vocab_size}


if __name__ == "__main__":
    main()
