"""Which module is running, and what parameters are called.

The watcher installs the engine's *global* module forward pre-/post-hooks (as
``torch.nn.modules.module.register_module_forward_pre_hook`` does in PyTorch). The first
module entered with no module running is a root: its ``named_modules()`` and
``named_parameters()`` give every path (``'features.0'``) and parameter name
(``'conv1.weight'``) below it. A second, different root (a GAN's discriminator) gets its
class name as a prefix so names do not collide. Leaves that belong to no module (plain
tensor scripts: ``w = torch.randn(3, requires_grad=True)``) are named after the user's
variable that holds them when one can be found.
"""

from __future__ import annotations

import sys
import weakref

from .source import skip_prefixes, _is_skipped

__all__ = ["ModuleTracker"]


class ModuleTracker:
    """Module paths and parameter names; see the module docstring."""

    def __init__(self):
        # Keyed by id; an entry goes when its object is freed (ids are reused), and the
        # tracker never keeps a module or tensor alive itself.
        self._paths: dict[int, str] = {}      # id(module) -> path
        self._param_names: dict[int, str] = {}  # id(tensor) -> name
        self._tried: set[int] = set()         # leaves name_leaves already looked for
        self._roots: list = []                # weak references to the root models
        self.stack: list[str] = []            # module paths being run (innermost last)
        self._handles: list = []

    # -- hooks -----------------------------------------------------------------------

    def install(self) -> bool:
        """Register the global forward hooks; False if the engine has no ``nn`` yet."""
        try:
            from engine.nn.modules import module as _mm
        except Exception:
            return False
        self._handles.append(_mm.register_module_forward_pre_hook(self._pre))
        self._handles.append(_mm.register_module_forward_hook(self._post))
        return True

    def uninstall(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        self.stack.clear()

    def _pre(self, module, args):
        path = self._paths.get(id(module))
        if path is None:
            path = self._new_module(module)
        self.stack.append(path)

    def _post(self, module, args, output):
        path = self._paths.get(id(module))
        st = self.stack
        # Pop to this module's entry (an exception inside a child may have left extras).
        while st:
            if st.pop() == path:
                break

    def _new_module(self, module) -> str:
        if self.stack:                       # an unregistered child: name it under its parent
            path = f"{self.stack[-1]}.{type(module).__name__}" if self.stack[-1] else type(module).__name__
            self._paths[id(module)] = path
            weakref.finalize(module, self._paths.pop, id(module), None)
            return path
        live_root = any(r() is not None for r in self._roots)
        prefix = type(module).__name__ if live_root else ""
        self.add_model(module, prefix)
        return self._paths[id(module)]

    # -- naming ----------------------------------------------------------------------

    def add_model(self, model, prefix: str = "") -> None:
        """Register ``model``'s module paths and parameter names (``prefix.name``)."""
        self._roots = [r for r in self._roots if r() is not None] + [weakref.ref(model)]
        for name, m in model.named_modules():
            full = f"{prefix}.{name}" if prefix and name else (prefix or name)
            if id(m) not in self._paths:
                self._paths[id(m)] = full
                weakref.finalize(m, self._paths.pop, id(m), None)
        for name, p in model.named_parameters():
            full = f"{prefix}.{name}" if prefix else name
            if id(p) not in self._param_names:
                self._param_names[id(p)] = full
                self._watch_tensor(p)

    def module_path(self) -> str:
        """Path of the innermost running module ('' when none)."""
        st = self.stack
        return st[-1] if st else ""

    def param_name(self, tensor) -> str | None:
        return self._param_names.get(id(tensor))

    def set_param_name(self, tensor, name: str) -> None:
        if id(tensor) not in self._param_names:
            self._param_names[id(tensor)] = name
            if id(tensor) not in self._tried:   # name_leaves already watches those
                self._watch_tensor(tensor)

    def _watch_tensor(self, tensor) -> None:
        """Forget ``tensor``'s name when it is freed (its id may then be reused). Never
        keep it alive: a script that makes a new leaf each iteration (an input that
        requires grad, for saliency or adversarial steps) would hold every batch."""
        weakref.finalize(tensor, self._forget, id(tensor))

    def _forget(self, key: int) -> None:
        self._param_names.pop(key, None)
        self._tried.discard(key)

    def name_leaves(self, tensors) -> None:
        """Name unnamed leaf tensors after user variables that hold them (locals of the
        innermost user frame, then its globals); others stay unnamed."""
        want = {id(t): t for t in tensors
                if id(t) not in self._param_names and id(t) not in self._tried}
        if not want:
            return
        for t in want.values():           # look each leaf up once, not every pass
            self._tried.add(id(t))
            self._watch_tensor(t)
        prefixes = skip_prefixes()
        f = sys._getframe(1)
        while f is not None and _is_skipped(f.f_code.co_filename, prefixes):
            f = f.f_back
        if f is None:
            return
        for scope in (f.f_locals, f.f_globals):
            for name, v in list(scope.items()):
                t = want.pop(id(v), None)
                if t is not None and not name.startswith("_"):
                    self.set_param_name(t, name)
                if not want:
                    return
