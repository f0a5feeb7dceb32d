"""The step controller, driven by a fake training thread that calls checkpoints in a
known order (no engine needed): stepping visits every node once, in order; pause,
finish-pass, step-iteration, run-to and stop do what they say; no thread is left."""

from __future__ import annotations

import threading

import pytest

from autograd_viz.breakpoints import BreakpointList, NodeBreakpoint
from autograd_viz.controller import StepController, StopTraining
from autograd_viz.models.debugger_state import Checkpoint, DebuggerState

from watch_helpers import TrainingThread, no_thread_leak  # noqa: F401

NODES = ["loss#0", "fc2/AddmmBackward0#0", "ReluBackward0#0", "fc1/AddmmBackward0#0",
         "param:fc1.weight"]


def fake_training(ctl: StepController, iterations: int = 2, trace: list | None = None):
    """What the watcher does per iteration: pass start, each node start/finish, pass
    end, iteration end."""
    for it in range(iterations):
        ctl.checkpoint(Checkpoint("backward_started", iteration=it, pass_index=it, loss=1.0))
        for key in NODES:
            for kind in ("node_started", "node_finished"):
                if trace is not None:
                    trace.append((it, kind, key))
                ctl.checkpoint(Checkpoint(kind, key=key, iteration=it, pass_index=it))
        ctl.checkpoint(Checkpoint("backward_finished", iteration=it, pass_index=it))
        ctl.checkpoint(Checkpoint("iteration_end", iteration=it, pass_index=it))
    return "done"


def where(ctl):
    cp = ctl.state.checkpoint
    return (cp.iteration, cp.kind, cp.key)


def test_step_node_visits_every_node_once_in_order(no_thread_leak):
    ctl = StepController(start_paused=True)
    t = TrainingThread(lambda: fake_training(ctl, iterations=1))
    t.start()
    visited = []
    while True:
        paused = ctl.wait_until_paused(0.5)
        if not paused:                 # stepped past the last node: the thread finished
            assert not t.is_alive(), "training thread neither paused nor finished"
            break
        visited.append(where(ctl))
        ctl.step_node()
    t.join(5)
    assert not t.is_alive() and t.exc is None and t.result == "done"
    started = [k for _, kind, k in visited if kind == "node_started"]
    finished = [k for _, kind, k in visited if kind == "node_finished"]
    assert started == NODES and finished == NODES
    # start_paused stops at the very first checkpoint, then one step per node phase
    assert visited[0][1] == "backward_started"
    assert [v[1] for v in visited[1:3]] == ["node_started", "node_finished"]


def test_step_node_without_finish_pauses_only_at_starts(no_thread_leak):
    ctl = StepController(start_paused=True, pause_on_finish=False)
    t = TrainingThread(lambda: fake_training(ctl, iterations=1))
    t.start()
    assert ctl.wait_until_paused(5)
    kinds = []
    for _ in NODES:
        ctl.step_node()
        assert ctl.wait_until_paused(5)
        kinds.append(where(ctl))
    ctl.resume()
    t.join(5)
    assert [k for _, _, k in kinds] == NODES
    assert {kind for _, kind, _ in kinds} == {"node_started"}


def test_finish_pass_step_iteration_run_to(no_thread_leak):
    ctl = StepController(start_paused=True)
    t = TrainingThread(lambda: fake_training(ctl, iterations=5))
    t.start()
    assert ctl.wait_until_paused(5)
    assert where(ctl) == (0, "backward_started", None)
    ctl.finish_pass()
    assert ctl.wait_until_paused(5)
    assert where(ctl) == (0, "backward_finished", None)
    assert ctl.state.reason == "backward end"
    ctl.step_iteration()
    assert ctl.wait_until_paused(5)
    assert where(ctl) == (0, "iteration_end", None)
    ctl.step_iteration()
    assert ctl.wait_until_paused(5)
    assert where(ctl) == (1, "iteration_end", None)
    ctl.run_to(4)                     # 4 iterations complete = end of iteration index 3
    assert ctl.wait_until_paused(5)
    assert where(ctl) == (3, "iteration_end", None)
    ctl.resume()
    t.join(5)
    assert t.result == "done"
    assert ctl.state.mode == "running"


def test_pause_from_another_thread_while_running(no_thread_leak):
    ctl = StepController()
    go_on = threading.Event()

    def endless():
        it = 0
        while True:
            ctl.checkpoint(Checkpoint("node_started", key="a", iteration=it))
            it += 1
            go_on.set()

    t = TrainingThread(endless)
    t.start()
    assert go_on.wait(5)
    ctl.pause()
    assert ctl.wait_until_paused(5)
    assert ctl.state.mode == "paused" and ctl.state.reason == "pause"
    ctl.stop()
    t.join(5)
    assert not t.is_alive()
    assert isinstance(t.exc, StopTraining)
    assert ctl.state.mode == "stopped"


def test_stop_unwinds_paused_thread_and_stays_stopped(no_thread_leak):
    ctl = StepController(start_paused=True)
    trace = []
    t = TrainingThread(lambda: fake_training(ctl, iterations=3, trace=trace))
    t.start()
    assert ctl.wait_until_paused(5)
    ctl.stop("user pressed stop")
    t.join(5)
    assert not t.is_alive()
    assert isinstance(t.exc, StopTraining) and "user pressed stop" in str(t.exc)
    assert trace == []                 # it never got past the first checkpoint
    with pytest.raises(StopTraining):  # any later checkpoint raises too
        ctl.checkpoint(Checkpoint("node_started", key="x"))
    ctl.reset()
    ctl.checkpoint(Checkpoint("node_started", key="x"))


def test_stop_is_not_swallowed_by_except_exception(no_thread_leak):
    ctl = StepController()
    ctl.stop()

    def script():
        try:
            ctl.checkpoint(Checkpoint("node_started", key="a"))
        except Exception:  # noqa: BLE001 - what a careless script does
            return "swallowed"
        return "ran on"

    t = TrainingThread(script)
    t.start()
    t.join(5)
    assert isinstance(t.exc, StopTraining)


def test_breakpoint_pauses_then_resume(no_thread_leak):
    bps = BreakpointList()
    bp = bps.add(NodeBreakpoint("ReluBackward0#0"))
    ctl = StepController(DebuggerState(), bps)
    t = TrainingThread(lambda: fake_training(ctl, iterations=2))
    t.start()
    hits = []
    for _ in range(2):
        assert ctl.wait_until_paused(5)
        hits.append(where(ctl))
        assert ctl.state.breakpoint is bp and ctl.state.reason == "breakpoint"
        ctl.resume()
    t.join(5)
    assert t.result == "done"
    assert hits == [(0, "node_started", "ReluBackward0#0"), (1, "node_started", "ReluBackward0#0")]
    assert bp.hit_count == 2
    assert len(ctl.state.hits) == 2


def test_break_action_stop_raises_at_the_hit(no_thread_leak):
    bps = BreakpointList()
    bps.add(NodeBreakpoint("fc1/AddmmBackward0#0"))
    ctl = StepController(DebuggerState(), bps, break_action="stop")
    trace = []
    with pytest.raises(StopTraining) as ei:
        fake_training(ctl, iterations=1, trace=trace)
    assert "fc1/AddmmBackward0#0" in str(ei.value)
    assert trace[-1] == (0, "node_started", "fc1/AddmmBackward0#0")
    assert ctl.state.mode == "stopped" and ctl.state.checkpoint.key == "fc1/AddmmBackward0#0"


def test_state_slot_can_command_from_training_thread():
    """A slot on state.changed (running in the training thread) may stop the run
    without deadlocking (the controller's lock is re-entrant)."""
    ctl = StepController(start_paused=True)

    def on_change(state):
        if state.mode == "paused":
            ctl.stop("slot stopped it")

    ctl.state.changed.connect(on_change)
    with pytest.raises(StopTraining):
        fake_training(ctl, iterations=1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="break_action"):
        StepController(break_action="explode")
    with pytest.raises(ValueError, match="positive"):
        StepController().run_to(0)


# ---------------------------------------------------------------------------------------
# with the real engine: a training thread watched, stepped from the test thread

def test_stepping_a_real_backward_pass_from_another_thread(no_thread_leak):
    import numpy as np

    import engine as torch
    from engine.autograd import events

    from autograd_viz.watch import watch

    torch.manual_seed(0)
    w1 = torch.randn(4, 6, requires_grad=True)
    w2 = torch.randn(6, 2, requires_grad=True)
    x = torch.randn(3, 4)
    engine_order = []

    def spy(ev):
        if ev.kind == "node_started":
            engine_order.append(ev.node.name())

    ctl = StepController(start_paused=True)
    s = watch(controller=ctl)
    h = events.add_listener(spy)

    def train():
        loss = ((x @ w1).tanh() @ w2).pow(2).mean()
        loss.backward()
        return loss.item()

    t = TrainingThread(train)
    t.start()
    visits = []
    inspected = {}
    try:
        while True:
            if not ctl.wait_until_paused(2):
                assert not t.is_alive(), "training thread neither paused nor finished"
                break
            cp = s.state.checkpoint
            visits.append((cp.kind, cp.key))
            if cp.kind == "node_started":
                gin = s.state.grads_in()
                st = s.graph.node(cp.key)["grad_in"]
                assert np.linalg.norm(gin[0]) == pytest.approx(st[0].norm, rel=1e-5)
                assert s.graph.node(cp.key)["state"] == "running"
                if cp.op == "TanhBackward0":
                    inspected["saved"] = s.state.saved_tensors()
                with pytest.raises(RuntimeError, match="node_finished"):
                    s.state.grads_out()
            elif cp.kind == "node_finished":
                gout = s.state.grads_out()
                if cp.op == "MmBackward0" and cp.key not in inspected:
                    inspected[cp.key] = [None if g is None else g.shape for g in gout]
            ctl.step_node()
    finally:
        ctl.stop()
        t.join(5)
        h.remove()
        s.detach()
    assert t.exc is None, t.exc
    started = [k for kind, k in visits if kind == "node_started"]
    assert len(started) == len(set(started)) == s.graph.graph.number_of_nodes()
    assert [s.graph.node(k)["op"] for k in started] == engine_order
    assert started == s.graph.order
    assert [k for kind, k in visits if kind == "node_finished"] == started
    assert inspected["saved"][0][0] == "result" and inspected["saved"][0][1].shape == (3, 6)
    mm = sorted(str(v) for k, v in inspected.items() if k != "saved")
    assert mm == ["[(3, 6), (6, 2)]", "[None, (4, 6)]"]        # x needs no grad: None
    assert events.listeners() == ()


def test_stop_unwinds_a_real_training_thread(no_thread_leak):
    import engine as torch
    from engine.autograd import events

    from autograd_viz import OpBreakpoint
    from autograd_viz.watch import watch

    w = torch.randn(3, 3, requires_grad=True)
    ctl = StepController()
    ctl.breakpoints.add(OpBreakpoint("TanhBackward0"))
    s = watch(controller=ctl)
    iterations = []

    def train():
        for i in range(1000):
            (w @ w).tanh().sum().backward()
            w.grad = None
            iterations.append(i)

    t = TrainingThread(train)
    t.start()
    assert ctl.wait_until_paused(5)
    assert s.state.checkpoint.op == "TanhBackward0" and s.state.reason == "breakpoint"
    ctl.resume()
    assert ctl.wait_until_paused(5)               # next iteration, same breakpoint
    ctl.stop()
    t.join(5)
    s.detach()
    assert not t.is_alive() and isinstance(t.exc, StopTraining)
    assert iterations == [0]
    assert events.listeners() == ()


# ---------------------------------------------------------------------------------------
# the script runner: an unmodified script in a thread, stopped cleanly

SCRIPTS = __import__("pathlib").Path(__file__).resolve().parent / "scripts"


def test_runner_stop_unwinds_script_thread(no_thread_leak):
    import sys

    from engine.autograd import events

    from autograd_viz.runner import ScriptRunner
    from autograd_viz.watch import Session

    argv_before = list(sys.argv)
    ctl = StepController(start_paused=True)
    s = Session(controller=ctl)
    results = []
    runner = ScriptRunner(SCRIPTS / "train_tiny.py", ["--iters", "1000"], s)
    runner.finished.connect(results.append)
    runner.start()
    assert ctl.wait_until_paused(10)
    assert runner.running and s.is_attached
    assert sys.argv[1:] == ["--iters", "1000"]           # the script sees its own argv
    ctl.step_iteration()
    assert ctl.wait_until_paused(10)
    assert s.state.checkpoint.kind == "iteration_end"
    runner.stop("test says stop")
    assert runner.join(10)
    r = runner.result
    assert r.status == "stopped" and r.message == "test says stop" and results == [r]
    assert s.state.mode == "stopped"
    assert sys.argv == argv_before
    assert events.listeners() == () and not s.is_attached
    assert s.history.iterations == 1          # stopped at the end of iteration 0


def test_runner_reports_script_errors_and_exit_codes(tmp_path, no_thread_leak):
    from autograd_viz.runner import ScriptRunner, run_script
    from autograd_viz.watch import Session

    s = Session()
    r = run_script(SCRIPTS / "train_tiny.py", ["--iters", "2", "--fail"], s)
    assert r.status == "error" and r.exit_code == 1
    assert "ValueError: planted failure" in r.traceback and "train_tiny.py" in r.traceback
    assert "runpy" not in r.traceback and "runner.py" not in r.traceback
    assert s.state.mode == "error" and "planted failure" in s.state.error
    assert s.history.iterations == 2

    ex = tmp_path / "exits.py"
    ex.write_text("import sys\nsys.exit(3)\n")
    r = ScriptRunner(ex).run()
    assert r.status == "error" and r.exit_code == 3
    ex.write_text("import sys\nsys.exit(0)\n")
    assert ScriptRunner(ex).run().status == "finished"
    r = ScriptRunner(tmp_path / "nope.py").run()
    assert r.status == "error" and "not found" in r.message
