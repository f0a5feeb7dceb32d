"""A character-level GPT trained on text that ships with Python: a transformer's graph.

The model is nanoGPT's (``samples/models/gpt.py``): token and position embeddings, pre-norm
blocks of causal self-attention (``F.scaled_dot_product_attention`` with ``is_causal``, one
``ScaledDotProductFlashAttentionForCpuBackward0`` node per block, as in PyTorch) and a
GELU MLP, a final LayerNorm, and an output head that shares the token embedding's weight
(one ``AccumulateGrad`` leaf with two incoming edges). Training follows nanoGPT too: AdamW
with weight decay on the weight matrices only, a warmup then cosine learning-rate schedule
and gradient-norm clipping. ``--attention manual`` writes the attention out (``q @ k^T``,
``masked_fill``, softmax, ``@ v``), so every step of it is a node to step through.

The text is the docstrings of a few standard-library modules (read from their source
files, as ``char_rnn.py`` does). At the end the script prints a sample the model writes.

Run it:
    python samples/gpt.py
    python samples/gpt.py --steps 2
    python samples/gpt.py --attention manual --n-layer 2
"""

from __future__ import annotations

import argparse

import numpy as np

import engine as torch
import engine.nn.functional as F
import engine.optim as optim

from samples.char_rnn import TEXT_MODULES, CharData, count_nodes, load_text
from samples.models.gpt import build_model, configure_optimizer, warmup_cosine


def batch(data: CharData, block_size: int, batch_size: int):
    """``(inputs, targets)`` of shape (batch, block_size): random windows of the text and the
    same windows shifted by one character."""
    starts = data.rng.integers(0, len(data.codes) - block_size - 1, size=batch_size)
    windows = np.stack([data.codes[s:s + block_size + 1] for s in starts])
    return torch.tensor(windows[:, :-1]), torch.tensor(windows[:, 1:])


def generate(model, data: CharData, prompt: str, length: int, rng, temperature=0.8) -> str:
    """Continue ``prompt`` by ``length`` characters, each sampled from the model's softmax
    over its last ``block_size`` characters."""
    codes = [data.index[c] for c in prompt if c in data.index]
    model.eval()
    with torch.no_grad():
        for _ in range(length):
            context = torch.tensor(np.array([codes[-model.block_size:]]))
            logits, _ = model(context)
            probs = F.softmax(logits[0, -1] / temperature, dim=0).numpy().astype(np.float64)
            codes.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    model.train()
    return data.decode(codes)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="number of optimizer iterations")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=64, help="context length in characters")
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--attention", choices=("sdpa", "manual"), default="sdpa")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=20, help="warmup steps")
    parser.add_argument("--print-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Train on random windows of the text; print the loss, then a generated sample."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    data = CharData(load_text(), args.seed)
    print(f"text: {len(data.codes)} characters from the docstrings of "
          f"{', '.join(TEXT_MODULES)}; {data.vocab_size} distinct")
    model = build_model(torch, vocab_size=data.vocab_size, block_size=args.block_size,
                        n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                        attention=args.attention)
    optimizer = configure_optimizer(torch, model, lr=args.lr, weight_decay=0.1)
    scheduler = optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(args.warmup, args.steps))

    for step in range(1, args.steps + 1):
        inputs, targets = batch(data, args.block_size, args.batch_size)
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(inputs, targets)
        if step == 1:
            print(f"one iteration's backward graph: {count_nodes(loss)} nodes "
                  f"({args.n_layer} blocks, {len(list(model.parameters()))} parameters, "
                  "the token embedding shared with the output head)")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % args.print_every == 0 or step == 1 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.4f}  lr {scheduler.get_last_lr()[0]:.2e}",
                  flush=True)

    sample = generate(model, data, "The ", 120, np.random.default_rng(args.seed))
    print("sample:", repr(sample))
    return {"loss": loss.item(), "steps": args.steps, "sample": sample}


if __name__ == "__main__":
    main()
