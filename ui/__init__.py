"""The desktop app (PySide6 + pyqtgraph): widgets that draw autograd_viz's models."""
