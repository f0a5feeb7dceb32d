"""The ``autograd-viz`` command.

::

    autograd-viz record SCRIPT [ARGS...] -o FILE [--steps N] [--break-on nonfinite]
    autograd-viz info FILE [--json]
    autograd-viz export FILE --csv DIR
    autograd-viz graph FILE -o graph.svg|graph.dot [--iteration N] [--collapse MODULE]
    autograd-viz [open FILE | run SCRIPT [ARGS...]]        (the GUI)

``record`` runs the script headless (no Qt) under a watch session and writes a session
file, one commit per iteration, printing a progress line per iteration. Its own
options may come before or after the script and its arguments; anything after ``--``
goes to the script untouched (use it when the script has options named like ours).

Iterations are numbered from 0, as in the session file.

Exit status: 0 done (or stopped by ``--steps``), 1 the script failed, 2 a usage or
file error, 3 ``--break-on`` stopped the run at a non-finite value.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

__all__ = ["main"]

EXIT_OK, EXIT_SCRIPT, EXIT_USAGE, EXIT_BREAK = 0, 1, 2, 3

_RECORD_USAGE = ("usage: autograd-viz record SCRIPT [ARGS...] -o FILE [--steps N] "
                 "[--break-on nonfinite] [--hist-every N] [--stats-every N] [--quiet] [-- ARGS...]")


class UsageError(Exception):
    pass


def _err(msg: str) -> None:
    print(f"autograd-viz: {msg}", file=sys.stderr)


# ------------------------------------------------------------------------------------
# record

_REC_OPTS = {"-o": "output", "--output": "output", "--steps": "steps", "--break-on": "break_on",
             "--hist-every": "hist_every", "--stats-every": "stats_every"}
_REC_FLAGS = {"--quiet": "quiet", "-q": "quiet", "--no-overwrite": "no_overwrite"}


def _parse_record(argv: list[str]) -> dict:
    """Split ``record``'s own options from SCRIPT and its ARGS (see module docstring)."""
    opts = {"output": None, "steps": None, "break_on": None, "hist_every": "10",
            "stats_every": "1", "quiet": False, "no_overwrite": False}
    script, args = None, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            args.extend(argv[i + 1:])
            break
        name, eq, val = a.partition("=")
        if name in _REC_OPTS:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"option {name} needs a value\n{_RECORD_USAGE}")
                val = argv[i + 1]
                i += 1
            opts[_REC_OPTS[name]] = val
        elif a in _REC_FLAGS:
            opts[_REC_FLAGS[a]] = True
        elif a in ("-h", "--help") and script is None:
            print(_RECORD_USAGE)
            print(__doc__)
            raise SystemExit(EXIT_OK)
        elif script is None:
            if a.startswith("-"):
                raise UsageError(f"unknown option {a!r} before the script\n{_RECORD_USAGE}")
            script = a
        else:
            args.append(a)
        i += 1
    if script is None:
        raise UsageError(f"record needs a SCRIPT to run\n{_RECORD_USAGE}")
    if not opts["output"]:
        raise UsageError(f"record needs -o FILE (the session file to write)\n{_RECORD_USAGE}")
    for k in ("steps", "hist_every", "stats_every"):
        if opts[k] is not None:
            try:
                opts[k] = int(opts[k])
            except ValueError:
                raise UsageError(f"--{k.replace('_', '-')} needs a whole number, got {opts[k]!r}") from None
            if opts[k] < (1 if k != "hist_every" else 0):
                raise UsageError(f"--{k.replace('_', '-')} must be positive, got {opts[k]}")
    if opts["break_on"] not in (None, "nonfinite"):
        raise UsageError(f"--break-on knows only 'nonfinite', got {opts['break_on']!r}")
    opts["script"], opts["args"] = script, args
    return opts


class _Progress:
    """Prints one line per iteration: number, loss, metrics, speed."""

    def __init__(self, quiet: bool, out=None):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.t0 = time.perf_counter()
        self.n = 0

    def __call__(self, summary) -> None:
        self.n += 1
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.t0
        speed = self.n / elapsed if elapsed > 0 else float("inf")
        loss = "n/a" if summary.loss is None else f"{summary.loss:.6g}"
        ms = summary.duration * 1000.0
        metrics = "".join(f"  {k} {v:.4g}" for k, v in summary.metrics.items())
        bad = "  NON-FINITE" if summary.reports else ""
        print(f"iter {summary.iteration:>6}  loss {loss}{metrics}  {speed:.2f} it/s "
              f"({ms:.1f} ms){bad}", file=self.out, flush=True)


def cmd_record(argv: list[str]) -> int:
    from .breakpoints import LossBreakpoint, NonFiniteBreakpoint
    from .controller import StepController
    from .recorder import Recorder
    from .runner import ScriptRunner
    from .session import SessionError
    from .watch import Session, WatchConfig

    o = _parse_record(argv)
    script = o["script"]
    if not os.path.isfile(script):
        raise UsageError(f"script not found: {script}")
    ctl = StepController(break_action="stop")
    if o["break_on"] == "nonfinite":
        ctl.breakpoints.add(NonFiniteBreakpoint())
        ctl.breakpoints.add(LossBreakpoint(nonfinite=True))
    session = Session(WatchConfig(stats_every=o["stats_every"], hist_every=o["hist_every"]), ctl)
    try:
        recorder = Recorder(session, o["output"], script=os.path.abspath(script), args=o["args"],
                            overwrite=not o["no_overwrite"])
    except SessionError as e:
        raise UsageError(str(e)) from None
    progress = _Progress(o["quiet"])
    session.iteration_closed.connect(progress)
    steps = o["steps"]
    if steps is not None:
        def _limit(summary):
            if summary.iteration + 1 >= steps:
                ctl.stop(f"completed {steps} iteration(s) (--steps {steps})")
        session.iteration_closed.connect(_limit)
    t0 = time.perf_counter()
    result = ScriptRunner(script, o["args"], session).run()
    elapsed = time.perf_counter() - t0
    hit = session.state.breakpoint if session.state.mode == "stopped" else None
    status = {"finished": "finished", "stopped": "stopped", "error": "error"}[result.status]
    recorder.close(status, result.message)
    n = recorder.written
    if result.status == "error":
        if result.traceback:
            sys.stderr.write(result.traceback)
        _err(f"{script}: {result.message}")
        print(f"recorded {n} iteration(s) to {o['output']} before the error", file=sys.stderr)
        return EXIT_SCRIPT
    if hit is not None:
        cp = session.state.checkpoint
        print(f"stopped at breakpoint '{hit.description}' in iteration {cp.iteration}:",
              file=sys.stdout)
        where = cp.key or cp.kind
        src = f" created at {cp.source[0]}:{cp.source[1]}" if cp.source else ""
        print(f"  node {where} ({cp.op}){src}" if cp.op else f"  at {where} (loss {cp.loss})")
        for rep in session.provenance.reports[:5]:
            print(f"  {rep.message()}")
        print(f"recorded {n} iteration(s) to {o['output']}")
        return EXIT_BREAK
    speed = n / elapsed if elapsed > 0 else 0.0
    how = result.message if result.status == "stopped" else "finished"
    print(f"{how}: recorded {n} iteration(s) to {o['output']} in {elapsed:.2f} s ({speed:.2f} it/s)")
    return EXIT_OK


# ------------------------------------------------------------------------------------
# info / export / graph

def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def cmd_info(args) -> int:
    from .session import summarize
    info = summarize(args.file)
    if args.json:
        print(json.dumps(info, indent=2, allow_nan=False))
        return EXIT_OK
    run = info.get("run") or {}
    print(f"session   {info['path']}  (format {info['format_version']}, {info['status']})")
    if run.get("script"):
        print(f"script    {run['script']} {' '.join(run.get('args') or [])}".rstrip())
    first, last = info["first_iteration"], info["last_iteration"]
    span = f" ({first}..{last})" if info["iterations"] else ""
    print(f"iterations {info['iterations']}{span}")
    g = info.get("graph")
    if g:
        print(f"graph     {g['nodes']} nodes, {g['edges']} edges, {g['structures']} structure(s)")
    params = info.get("parameters") or []
    print(f"parameters {len(params)}")
    for p in params:
        print(f"  {p['name']:<30} {tuple(p['shape'])}")
    loss = info.get("loss") or {}
    print(f"loss      first {_fmt(loss.get('first'))}  final {_fmt(loss.get('final'))}")
    nf = info.get("nonfinite_events") or {}
    print(f"non-finite events {nf.get('count', 0)}")
    for e in nf.get("first", [])[:10]:
        print(f"  {e['message']}")
    return EXIT_OK


def cmd_export(args) -> int:
    from .session import export_csv
    if not args.csv:
        raise UsageError("export needs --csv DIR (the only export format)")
    os.makedirs(args.csv, exist_ok=True)
    for p in export_csv(args.file, args.csv):
        print(p)
    return EXIT_OK


def cmd_graph(args) -> int:
    from .graph_export import write_graph
    from .replay import ReplaySession
    out = args.output
    suffix = os.path.splitext(out)[1].lower()
    if suffix not in (".svg", ".dot", ".gv"):
        raise UsageError(f"graph output must end in .svg, .dot or .gv, got {out!r}")
    with ReplaySession(args.file) as rs:
        if not rs.iterations and rs.graph.structure_id is None:
            raise UsageError(f"{args.file}: the session has no recorded graph yet")
        if args.iteration is not None:
            if args.iteration not in rs.iterations:
                raise UsageError(f"{args.file}: no iteration {args.iteration} "
                                 f"(recorded: {rs.iterations[0]}..{rs.iterations[-1]})")
            rs.goto(args.iteration)
        g = rs.graph.snapshot()
    opts = {"direction": args.direction} if args.direction else {}
    write_graph(g, out, collapsed=set(args.collapse or ()), **opts)
    print(f"wrote {out} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges)")
    return EXIT_OK


# ------------------------------------------------------------------------------------
# the GUI

GUI_ENTRY_POINTS = "autograd_viz.gui"


def _find_gui():
    """The desktop app's ``main(argv)``, registered by the ``ui`` package under the
    ``autograd_viz.gui`` entry point (pyproject.toml). Looking it up there keeps this
    package free of any import of Qt or ``ui``: the debugger runs headless without them."""
    from importlib.metadata import entry_points
    found = sorted(entry_points(group=GUI_ENTRY_POINTS), key=lambda ep: ep.name)
    if not found:
        raise ImportError(f"no desktop app is registered under the '{GUI_ENTRY_POINTS}' "
                          "entry point (is autograd-viz installed with pip?)")
    return found[0].load()


def cmd_gui(argv: list[str]) -> int:
    """Start the desktop app with ``argv`` (``[]``, ``['open', FILE]``, ``['run', SCRIPT, ...]``)."""
    install = ("Install the GUI extra: pip install 'autograd-viz[gui]' (PySide6 < 6.12 and "
               "pyqtgraph). Headless commands (record, info, export, graph) work without it.")
    if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        # Qt would abort the process; say why instead.
        _err("the GUI cannot start: no display (DISPLAY/WAYLAND_DISPLAY unset). Run it on a "
             "desktop, set QT_QPA_PLATFORM=offscreen, or use the headless commands "
             "(record, info, export, graph).")
        return EXIT_USAGE
    try:
        gui_main = _find_gui()
    except ImportError as e:
        _err(f"the GUI cannot start: {e}. {install}")
        return EXIT_USAGE
    try:
        return int(gui_main(argv) or 0)
    except ImportError as e:
        _err(f"the GUI cannot start: {e}. {install}")
        return EXIT_USAGE
    except RuntimeError as e:
        _err(f"the GUI cannot start: {e}")
        return EXIT_USAGE


# ------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="autograd-viz", description="A debugger for backpropagation: record, inspect and "
        "step through the backward pass of a training script.",
        epilog="Without a command (or with open/run) the desktop app starts.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("record", help="run a script headless and record a session file",
                   add_help=False)
    pi = sub.add_parser("info", help="what a session file holds")
    pi.add_argument("file")
    pi.add_argument("--json", action="store_true", help="print JSON")
    pe = sub.add_parser("export", help="export a session's numbers as CSV files")
    pe.add_argument("file")
    pe.add_argument("--csv", metavar="DIR", required=True, help="folder to write the CSV files in")
    pg = sub.add_parser("graph", help="draw a session's backward graph as SVG or Graphviz dot")
    pg.add_argument("file")
    pg.add_argument("-o", "--output", required=True, help="graph.svg, graph.dot or graph.gv")
    pg.add_argument("--iteration", type=int, help="which iteration's graph (default: the last)")
    pg.add_argument("--collapse", action="append", metavar="MODULE",
                    help="draw a module as one box (repeatable)")
    pg.add_argument("--direction", choices=["TB", "BT", "LR", "RL"], help="layout direction")
    po = sub.add_parser("open", help="open a session file in the desktop app")
    po.add_argument("file")
    sub.add_parser("run", help="run a script in the desktop app", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``autograd-viz``; returns the exit status."""
    from .session import SessionError
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv:
            return cmd_gui([])
        if argv[0] == "record":
            return cmd_record(argv[1:])
        if argv[0] == "run":
            if len(argv) < 2:
                raise UsageError("usage: autograd-viz run SCRIPT [ARGS...]")
            return cmd_gui(argv)
        args = _parser().parse_args(argv)
        if args.command == "info":
            return cmd_info(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "graph":
            return cmd_graph(args)
        if args.command == "open":
            return cmd_gui(["open", args.file])
        _parser().print_help()
        return EXIT_USAGE
    except UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except SessionError as e:
        _err(str(e))
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
