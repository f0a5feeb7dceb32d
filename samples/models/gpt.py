"""A character-level GPT in nanoGPT's style: token and position embeddings, pre-norm blocks
of causal self-attention and a GELU MLP, a final LayerNorm, and an output head whose weight
is the token embedding's (weight tying). Trained with AdamW over two parameter groups
(weight decay on matrices only), a linear warmup then cosine learning-rate schedule
(``LambdaLR``) and gradient-norm clipping.

Attention is ``F.scaled_dot_product_attention(..., is_causal=True)`` by default (one fused
node in the graph, as in PyTorch), or written out (``attention="manual"``: ``q @ k^T``,
``masked_fill`` with a lower-triangular buffer, softmax, ``@ v``), as nanoGPT does when
flash attention is missing.

``recipe(T, **config)`` trains on batches of a learnable synthetic text (each row walks the
vocabulary with its own start and stride), so a few steps already lower the loss;
``samples/gpt.py`` trains the same model on real text.
"""

from __future__ import annotations

import math

import numpy as np

from . import Recipe, batch_rng, to_lib

#: The size the issue's benchmark times (4 layers, 128 wide, context 64, batch 16).
BENCH = dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch=16, vocab_size=65)
#: A small size for parity tests.
SMALL = dict(n_layer=2, n_head=2, n_embd=16, block_size=8, batch=4, vocab_size=11)


def build_model(T, *, vocab_size, block_size, n_layer, n_head, n_embd, dropout=0.0,
                bias=True, attention="sdpa"):
    """A GPT module class built over library ``T`` (``engine`` or ``torch``), instantiated."""
    nn = T.nn
    F = T.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)   # q, k, v in one matmul
            self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
            self.attn_dropout = nn.Dropout(dropout)
            self.resid_dropout = nn.Dropout(dropout)
            if attention == "manual":
                causal = np.tril(np.ones((block_size, block_size), dtype=np.float32))
                self.register_buffer("bias", to_lib(T, causal).view(1, 1, block_size,
                                                                    block_size))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(x).split(n_embd, dim=2)
            # (B, T, C) -> (B, heads, T, head size)
            q = q.view(b, t, n_head, c // n_head).transpose(1, 2)
            k = k.view(b, t, n_head, c // n_head).transpose(1, 2)
            v = v.view(b, t, n_head, c // n_head).transpose(1, 2)
            if attention == "manual":
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
                att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
                att = self.attn_dropout(F.softmax(att, dim=-1))
                y = att @ v
            else:
                y = F.scaled_dot_product_attention(
                    q, k, v, dropout_p=dropout if self.training else 0.0, is_causal=True)
            y = y.transpose(1, 2).contiguous().view(b, t, c)   # heads side by side again
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.block_size = block_size
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab_size, n_embd),
                wpe=nn.Embedding(block_size, n_embd),
                drop=nn.Dropout(dropout),
                h=nn.ModuleList([Block() for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd, bias=bias),
            ))
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight   # weight tying
            self.apply(self._init_weights)
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):   # GPT-2's scaled residual projections
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        @staticmethod
        def _init_weights(module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets=None):
            b, t = idx.shape
            if t > self.block_size:
                raise ValueError(f"sequence of {t} is longer than the context {self.block_size}")
            pos = T.arange(0, t, dtype=T.long)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            if targets is None:
                return logits, None
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
            return logits, loss

    return GPT()


def configure_optimizer(T, model, *, lr, weight_decay, betas=(0.9, 0.95)):
    """AdamW with weight decay on every matrix (embeddings, linear weights) and none on
    biases and LayerNorm parameters; the tied weight is one parameter, counted once."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return T.optim.AdamW(groups, lr=lr, betas=betas)


def warmup_cosine(warmup_steps, max_steps, min_ratio=0.1):
    """The learning-rate factor at a step: linear warmup, then cosine decay to
    ``min_ratio`` of the base rate at ``max_steps`` (and flat after)."""
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        if step >= max_steps:
            return min_ratio
        progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
        return min_ratio + 0.5 * (1.0 - min_ratio) * (1.0 + math.cos(math.pi * progress))
    return factor


def synthetic_batch(i, batch, block_size, vocab_size):
    """(inputs, targets) int64 arrays (batch, block_size): each row walks the vocabulary
    from its own start with its own stride, so the next token follows from the last two."""
    rng = batch_rng(i)
    start = rng.integers(0, vocab_size, (batch, 1))
    stride = rng.integers(1, 4, (batch, 1))
    seq = (start + stride * np.arange(block_size + 1)) % vocab_size
    return seq[:, :-1].astype(np.int64), seq[:, 1:].astype(np.int64)


def recipe(T, *, n_layer=SMALL["n_layer"], n_head=SMALL["n_head"], n_embd=SMALL["n_embd"],
           block_size=SMALL["block_size"], batch=SMALL["batch"], vocab_size=SMALL["vocab_size"],
           dropout=0.0, attention="sdpa", lr=3e-3, weight_decay=0.1, warmup_steps=2,
           max_steps=20, grad_clip=1.0) -> Recipe:
    model = build_model(T, vocab_size=vocab_size, block_size=block_size, n_layer=n_layer,
                        n_head=n_head, n_embd=n_embd, dropout=dropout, attention=attention)
    opt = configure_optimizer(T, model, lr=lr, weight_decay=weight_decay)
    sched = T.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(warmup_steps, max_steps))

    def step(i):
        x, y = to_lib(T, *synthetic_batch(i, batch, block_size, vocab_size))
        opt.zero_grad(set_to_none=True)
        _, loss = model(x, y)
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        sched.step()
        return loss

    return Recipe(T, model, opt, step, sched)
