"""A ResNet-style CNN for 3x32x32 images (CIFAR-sized): a 3x3 stem, three stages of basic
residual blocks (conv-BN-ReLU-conv-BN plus the identity, or a strided 1x1 conv + BN where the
shape changes), global ``AdaptiveAvgPool2d``, a linear head. Trained with SGD (momentum,
Nesterov, weight decay) under a ``OneCycleLR`` schedule, cross-entropy loss.

``recipe(T, **config)`` trains on synthetic images: each class a fixed random pattern plus
noise, so a few steps lower the loss. ``blocks`` is the number of residual blocks per stage
(3 gives ResNet-20), ``width`` the stem's channels (doubled at each stage). ``schedule=None``
trains at the constant ``lr`` instead of the one-cycle schedule.
"""

from __future__ import annotations

from . import Recipe, pattern_images, to_lib

#: ResNet-20 width 16 on CIFAR-sized input, batch 32 (issue 14's benchmark size).
BENCH = dict(batch=32, image_size=32, width=16, blocks=3, num_classes=10, total_steps=10_000)
#: A small size for parity tests (still 3 stages, one block each; 3x16x16 input).
SMALL = dict(batch=4, image_size=16, width=4, blocks=1, num_classes=5)


def build_model(T, *, width=16, blocks=3, num_classes=10, channels=3):
    nn = T.nn

    class BasicBlock(nn.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.shortcut = nn.Sequential()
            if stride != 1 or c_in != c_out:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x):
            out = T.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return T.relu(out + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, width, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            stages, c_in = [], width
            for k in range(3):
                c_out = width * 2 ** k
                layer = [BasicBlock(c_in if b == 0 else c_out, c_out,
                                    2 if (k > 0 and b == 0) else 1) for b in range(blocks)]
                stages.append(nn.Sequential(*layer))
                c_in = c_out
            self.layer1, self.layer2, self.layer3 = stages
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(c_in, num_classes)
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def forward(self, x):
            x = T.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(T.flatten(self.pool(x), 1))

    return ResNet()


def synthetic_batch(i, batch, image_size, num_classes, channels=3):
    """(images float32 (batch, channels, size, size), labels int64): a class's fixed
    pattern plus unit noise."""
    return pattern_images(i, batch, image_size, num_classes, channels, seed=4321)


def recipe(T, *, batch=SMALL["batch"], image_size=SMALL["image_size"], width=SMALL["width"],
           blocks=SMALL["blocks"], num_classes=SMALL["num_classes"], lr=0.05, momentum=0.9,
           weight_decay=5e-4, schedule="onecycle", total_steps=20) -> Recipe:
    model = build_model(T, width=width, blocks=blocks, num_classes=num_classes)
    opt = T.optim.SGD(model.parameters(), lr=lr, momentum=momentum, nesterov=True,
                      weight_decay=weight_decay)
    sched = None
    if schedule == "onecycle":
        sched = T.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps)
    elif schedule is not None:
        raise ValueError(f"unknown schedule {schedule!r}")

    def step(i):
        images, labels = synthetic_batch(i, batch, image_size, num_classes)
        x, y = to_lib(T, images, labels)
        opt.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    return Recipe(T, model, opt, step, sched)
