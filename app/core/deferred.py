"""A module imported when it is first used, not when the importing module is.

numpy (about 14 MB of a web process) is needed by the image analysers and the tech-file generators, which
run in workers; the web process imports those modules for their names and constants, and would
otherwise carry numpy for every request it serves. Workers import it for real in their warm-up.
"""
from __future__ import annotations

import importlib
from types import ModuleType


class DeferredModule:
    """Stands in for a module; each attribute read goes to the module, importing it the first time.

    `importlib.import_module` holds the import lock while a module loads, so two threads using it
    first at once both get the whole module; afterwards a read costs one `sys.modules` lookup.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str):
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<deferred module {self._name!r}>"


# For the analysers and the tech-file generators: `from app.core.deferred import numpy as np`.
numpy = DeferredModule("numpy")
