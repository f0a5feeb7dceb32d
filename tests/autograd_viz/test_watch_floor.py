"""benchmarks/watch_floor.py measures the least an exact watcher must compute; these tests
hold it to computing what the watcher computes, no less (else its figure says nothing)."""

import engine as torch
import engine.nn.functional as F
import engine.optim as optim
from engine.autograd import events

import autograd_viz
from benchmarks._floor_listener import FloorListener
from samples.lenet import Net


def _step(net, opt, x, y):
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    opt.step()


def test_floor_reduces_every_gradient_the_watcher_reduces():
    torch.manual_seed(0)
    net = Net()
    opt = optim.SGD(net.parameters(), lr=0.01)
    x, y = torch.randn(8, 1, 32, 32), torch.randint(0, 10, (8,))
    floor = FloorListener(hist_every=1)
    handle = events.add_listener(floor)
    try:
        with autograd_viz.watch(net) as s:
            for _ in range(2):
                _step(net, opt, x, y)
    finally:
        handle.remove()
    nodes = s.last_summary.nodes
    distinct = {id(st) for ns in nodes.values() for st in list(ns.grad_in) + list(ns.grad_out)
                if st is not None}
    # The watcher also reduces the seed (the loss's own gradient of 1), which no node sends.
    assert floor.reduced == len(distinct) - 1
    assert floor.iteration == 2
    assert set(floor.seconds) == {"forward check", "collect gradients", "gradient statistics",
                                  "parameters and histograms", "other"}


def test_floor_benchmark_runs(capsys):
    from benchmarks.watch_floor import main
    main(["--iters", "2", "--rounds", "1", "--batch", "4"])
    out = capsys.readouterr().out
    assert "floor" in out and "watched" in out and "inside the floor listener" in out
