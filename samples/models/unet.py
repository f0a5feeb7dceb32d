"""A small U-Net for per-pixel segmentation: an encoder of conv-GroupNorm-SiLU blocks with
max-pool downsampling, a bottleneck, and a decoder that upsamples once by a ``ConvTranspose2d``
and once by ``F.interpolate(mode='bilinear')`` (then a 1x1 conv), concatenating the encoder's
feature map of the same size (the skip connections) before each decoder block. A 1x1 conv
gives per-pixel class logits; the loss is per-pixel cross-entropy, the optimizer AdamW.

``recipe(T, **config)`` trains on synthetic images whose mask is a smooth function of the
image (which of two random fields is larger at each pixel), so a few steps lower the loss.
``base`` is the first stage's channels (doubled per stage), ``groups`` GroupNorm's groups.
"""

from __future__ import annotations

import numpy as np

from . import Recipe, batch_rng, to_lib

#: A 64x64 U-Net, 16 channels at the top, batch 8.
BENCH = dict(batch=8, image_size=64, base=16, groups=4, num_classes=3)
#: A small size for parity tests.
SMALL = dict(batch=2, image_size=16, base=4, groups=2, num_classes=3)


def build_model(T, *, base=16, groups=4, num_classes=3, channels=3):
    nn, F = T.nn, T.nn.functional

    def block(c_in, c_out):
        return nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.GroupNorm(groups, c_out),
            nn.SiLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.GroupNorm(groups, c_out),
            nn.SiLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1 = block(channels, base)
            self.enc2 = block(base, 2 * base)
            self.mid = block(2 * base, 4 * base)
            self.up2 = nn.ConvTranspose2d(4 * base, 2 * base, 2, stride=2)
            self.dec2 = block(4 * base, 2 * base)
            self.up1 = nn.Conv2d(2 * base, base, 1)
            self.dec1 = block(2 * base, base)
            self.head = nn.Conv2d(base, num_classes, 1)

        def forward(self, x):
            e1 = self.enc1(x)                                    # (N, b, H, W)
            e2 = self.enc2(F.max_pool2d(e1, 2))                  # (N, 2b, H/2, W/2)
            m = self.mid(F.max_pool2d(e2, 2))                    # (N, 4b, H/4, W/4)
            d2 = self.dec2(T.cat([self.up2(m), e2], dim=1))      # transposed-conv upsampling
            u1 = F.interpolate(d2, scale_factor=2, mode="bilinear", align_corners=False)
            d1 = self.dec1(T.cat([self.up1(u1), e1], dim=1))     # bilinear upsampling
            return self.head(d1)

    return UNet()


def synthetic_batch(i, batch, image_size, num_classes, channels=3):
    """(images float32 (batch, channels, size, size), masks int64 (batch, size, size)): the
    mask is the index of the largest of ``num_classes`` smooth projections of the image."""
    rng = batch_rng(i)
    images = rng.standard_normal((batch, channels, image_size, image_size))
    for axis in (2, 3):             # a 3-tap box blur along height and width (zero padded),
        pad = [(0, 0)] * 4          # so that the regions of the mask are contiguous
        pad[axis] = (1, 1)
        p = np.pad(images, pad)
        n = images.shape[axis]
        images = sum(np.take(p, np.arange(j, j + n), axis=axis) for j in range(3)) / 3
    proj = np.random.default_rng(99).standard_normal((num_classes, channels))
    masks = np.einsum("kc,nchw->nkhw", proj, images).argmax(axis=1)
    return images.astype(np.float32), masks.astype(np.int64)


def recipe(T, *, batch=SMALL["batch"], image_size=SMALL["image_size"], base=SMALL["base"],
           groups=SMALL["groups"], num_classes=SMALL["num_classes"], lr=3e-3,
           weight_decay=1e-2) -> Recipe:
    model = build_model(T, base=base, groups=groups, num_classes=num_classes)
    opt = T.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def step(i):
        images, masks = synthetic_batch(i, batch, image_size, num_classes)
        x, y = to_lib(T, images, masks)
        opt.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return Recipe(T, model, opt, step)
