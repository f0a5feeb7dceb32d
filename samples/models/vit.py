"""A ViT-tiny image classifier: patches embedded by a strided ``Conv2d``, a learnt class
token prepended, learnt position embeddings added, a pre-norm ``nn.TransformerEncoder``
with GELU MLPs, and a linear head on the class token's final state. Trained with AdamW,
cross-entropy with label smoothing and a cosine learning-rate schedule.

``recipe(T, **config)`` trains on synthetic 3-channel images: each class is a fixed random
pattern, each image that pattern plus noise, so a few steps lower the loss. ``dtype``
"float64" trains in double precision (the parity test does: the key projection's bias gets
only rounding noise as gradient, since softmax ignores a constant added to all of a query's
scores, and Adam scales float32 noise up to steps that differ between libraries).
"""

from __future__ import annotations

import numpy as np

from . import Recipe, batch_rng, to_lib

#: ViT-Tiny's widths (192 wide, 3 heads, MLP 768, 12 blocks) on 32x32 images in 4x4 patches.
BENCH = dict(image_size=32, patch_size=4, dim=192, depth=12, heads=3, mlp_dim=768,
                 num_classes=10, batch=32)
#: A small size for parity tests.
SMALL = dict(image_size=8, patch_size=4, dim=16, depth=2, heads=2, mlp_dim=32, num_classes=5,
             batch=8)


def build_model(T, *, image_size, patch_size, dim, depth, heads, mlp_dim, num_classes,
                channels=3, dropout=0.0):
    nn = T.nn

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            n_patches = (image_size // patch_size) ** 2
            self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch_size,
                                         stride=patch_size)
            self.cls_token = nn.Parameter(T.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(T.zeros(1, n_patches + 1, dim))
            self.pos_drop = nn.Dropout(dropout)
            layer = nn.TransformerEncoderLayer(dim, heads, mlp_dim, dropout, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim),
                                                 enable_nested_tensor=False)
            self.head = nn.Linear(dim, num_classes)
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
            nn.init.trunc_normal_(self.cls_token, std=0.02)

        def forward(self, images):
            x = self.patch_embed(images)             # (B, dim, H/p, W/p)
            x = x.flatten(2).transpose(1, 2)         # (B, patches, dim)
            cls = self.cls_token.expand(x.shape[0], -1, -1)
            x = self.pos_drop(T.cat([cls, x], dim=1) + self.pos_embed)
            x = self.encoder(x)
            return self.head(x[:, 0])

    return ViT()


def synthetic_batch(i, batch, image_size, num_classes, channels=3):
    """(images float32 (batch, channels, size, size), labels int64): a class's fixed
    pattern plus unit noise."""
    patterns = np.random.default_rng(1234).standard_normal(
        (num_classes, channels, image_size, image_size))
    rng = batch_rng(i)
    labels = rng.integers(0, num_classes, batch)
    images = patterns[labels] + rng.standard_normal((batch, channels, image_size, image_size))
    return images.astype(np.float32), labels.astype(np.int64)


def recipe(T, *, image_size=SMALL["image_size"], patch_size=SMALL["patch_size"],
           dim=SMALL["dim"], depth=SMALL["depth"], heads=SMALL["heads"],
           mlp_dim=SMALL["mlp_dim"], num_classes=SMALL["num_classes"], batch=SMALL["batch"],
           dropout=0.0, lr=3e-3, weight_decay=0.05, label_smoothing=0.1, max_steps=20,
           dtype="float32") -> Recipe:
    model = build_model(T, image_size=image_size, patch_size=patch_size, dim=dim, depth=depth,
                        heads=heads, mlp_dim=mlp_dim, num_classes=num_classes, dropout=dropout)
    model.to(getattr(T, dtype))
    opt = T.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = T.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max_steps)

    def step(i):
        images, labels = synthetic_batch(i, batch, image_size, num_classes)
        x, y = to_lib(T, images.astype(dtype), labels)
        opt.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y, label_smoothing=label_smoothing)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    return Recipe(T, model, opt, step, sched)
