"""Dialogs: a training script's exception (with its traceback) and error messages.

The exception dialog is non-modal (``show``, not ``exec``): the window stays usable, the
session keeps what it had, and a test never blocks on it.
"""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets


class ExceptionDialog(QtWidgets.QDialog):
    """Shows 'The training script raised ...' and the full traceback, with a copy button."""

    def __init__(self, title: str, message: str, traceback_text: str, parent=None):
        super().__init__(parent)
        self.setObjectName("exceptionDialog")
        self.setWindowTitle(title)
        self.resize(760, 460)
        self.message = QtWidgets.QLabel(message)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(self.message.textInteractionFlags()
                                             | self.message.textInteractionFlags().TextSelectableByMouse)
        icon = QtWidgets.QLabel()
        icon.setPixmap(self.style().standardIcon(
            QtWidgets.QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(40, 40))
        self.traceback = QtWidgets.QPlainTextEdit(traceback_text)
        self.traceback.setReadOnly(True)
        self.traceback.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.traceback.setFont(mono)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy traceback", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QtWidgets.QApplication.clipboard().setText(traceback_text))
        buttons.rejected.connect(self.close)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(self.message, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.traceback, 1)
        lay.addWidget(buttons)


def show_exception(parent, message: str, traceback_text: str) -> ExceptionDialog:
    """Open (non-modal) and return an ExceptionDialog."""
    dlg = ExceptionDialog("Training script failed", message, traceback_text, parent)
    dlg.setAttribute(QtGui.Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg


def show_error(parent, title: str, text: str) -> None:
    """A modal error message (tests patch QMessageBox.critical)."""
    QtWidgets.QMessageBox.critical(parent, title, text)
