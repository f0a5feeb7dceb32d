"""Entry point of the desktop app: ``main(argv) -> int`` (the CLI calls it).

``[]``: the LeNet sample, loaded and paused at its first checkpoint, ready to run
(press F5 to continue, F11 to step node by node); ``['open', FILE]``: a session file;
``['run', SCRIPT, ARGS...]``: a training script under the debugger.
"""

from __future__ import annotations

import sys

USAGE = "usage: autograd-viz [open FILE | run SCRIPT [ARGS...]]"


def _parse(argv):
    if not argv:
        return "sample", "lenet", []
    cmd = argv[0]
    if cmd == "open" and len(argv) == 2:
        return "open", argv[1], []
    if cmd == "run" and len(argv) >= 2:
        args = list(argv[2:])
        if args and args[0] == "--":
            args = args[1:]
        return "run", argv[1], args
    raise SystemExit(USAGE)


def make_app(argv=None):
    """The QApplication (created once), with pyqtgraph's options set."""
    from PySide6 import QtWidgets
    import pyqtgraph as pg

    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(["autograd-viz", *(argv or [])])
    app.setApplicationName("autograd-viz")
    app.setOrganizationName("autograd-viz")
    pg.setConfigOptions(antialias=True, background="w", foreground="#333")
    return app


def main(argv=None) -> int:
    """Start the window for ``argv`` (see the module docstring); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        what, target, args = _parse(argv)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    app = make_app()
    from .main_window import MainWindow
    from .samples_menu import sample_path

    window = MainWindow(ask_before_discard=True)
    window.show()
    if what == "sample":
        window.run_script(sample_path(target), args, start_paused=True)
    elif what == "run":
        window.run_script(target, args)
    else:
        window.open_session_file(target)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
