"""The debugger toolbar: the step commands plus the auto-step speed.

Auto-step turns 'step node' into an animation: every ``interval`` ms while paused, the
window issues one more step, so a user can watch the gradients flow node by node.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

# (label, milliseconds between steps); 0 = auto-step off.
SPEEDS = [("Auto-step off", 0), ("1 node/s", 1000), ("3 nodes/s", 333), ("10 nodes/s", 100),
          ("30 nodes/s", 33)]


class DebuggerToolbar(QtWidgets.QToolBar):
    autoStepChanged = QtCore.Signal(int)   # interval in ms, 0 = off

    def __init__(self, actions, parent=None):
        super().__init__("Debugger", parent)
        self.setObjectName("debuggerToolbar")
        self.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in actions.debug:
            self.addAction(a)
        self.addSeparator()
        self.speed = QtWidgets.QComboBox()
        self.speed.setObjectName("autoStepSpeed")
        self.speed.setToolTip("Auto-step: step node by node at this speed while paused")
        for label, ms in SPEEDS:
            self.speed.addItem(label, ms)
        self.speed.currentIndexChanged.connect(lambda i: self.autoStepChanged.emit(self.speed.itemData(i)))
        self.addWidget(self.speed)

    def interval(self) -> int:
        return int(self.speed.currentData())

    def set_speed_index(self, index: int):
        self.speed.setCurrentIndex(index)
