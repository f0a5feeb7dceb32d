"""``engine.device``: where a tensor's storage lives, 'cpu' or 'cuda[:N]'."""

from __future__ import annotations


class device:
    __slots__ = ("type", "index")

    def __init__(self, type_or_str, index=None):
        if isinstance(type_or_str, device):
            self.type, self.index = type_or_str.type, type_or_str.index
            return
        s = str(type_or_str)
        if ":" in s:
            s, idx = s.split(":", 1)
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_str}'")
            index = int(idx)
        if s not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device "
                               f"string: {type_or_str}")
        if s == "cuda" and index is None:
            index = 0
        self.type = s
        self.index = index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def as_device(d) -> device:
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)


# ``set_default_device``: where factory functions put a tensor when no device is given
# (None: the CPU). A one-element list so creation.py reads it without a global lookup.
_default_device = [None]


def set_default_device(d) -> None:
    """``torch.set_default_device``: 'cpu', 'cuda', a device, or None (back to the CPU)."""
    _default_device[0] = None if d is None else as_device(d)


def get_default_device() -> device:
    return _default_device[0] or CPU
