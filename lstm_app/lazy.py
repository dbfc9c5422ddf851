"""Package namespaces that load their submodules on first use (PEP 562), so `import lstm_app.runs`
or `lstm_app.report` stays free of TensorFlow, Ray and plotly until a name that needs them is read."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["exports"]


def exports(package: str, home: Mapping[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: each public name is read from the submodule `home`
    names (the submodule itself when the two are equal) and kept in the package once read."""
    def __getattr__(name: str) -> object:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f"{package}.{home[name]}")
        value = module if home[name] == name else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
