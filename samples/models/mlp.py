"""A small MLP classifier (Linear-ReLU-Linear, cross-entropy, Adam, StepLR): the simplest
recipe, and the pattern the others follow."""

from __future__ import annotations

from . import Recipe, batch_rng, to_lib


def build_model(T, n_in=20, hidden=32, n_out=5):
    nn = T.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(n_in, hidden)
            self.fc2 = nn.Linear(hidden, n_out)

        def forward(self, x):
            return self.fc2(T.relu(self.fc1(x)))

    return MLP()


def recipe(T, *, batch=16, n_in=20, hidden=32, n_out=5, lr=1e-2) -> Recipe:
    model = build_model(T, n_in, hidden, n_out)
    opt = T.optim.Adam(model.parameters(), lr=lr)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    def step(i):
        rng = batch_rng(i)
        x, y = to_lib(T, rng.standard_normal((batch, n_in)).astype("float32"),
                      rng.integers(0, n_out, batch))
        opt.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    return Recipe(T, model, opt, step, sched)
