"""The package's layering rules, checked on every module (one place instead of one test per module).

- Page-side modules (everything but `lstm_app.engine`'s Keras modules) never import TensorFlow or
  Keras: the Streamlit process imports them, and it must stay fast and survive a crashing worker.
- Nothing in the package imports Streamlit; only `dashboard.py` and `app_pages/` do.
- A private module (`_name.py`) is imported only from inside its own subpackage (tests may
  white-box a subpackage's internals; the package, the pages and the benchmarks may not).
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_app

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lstm_app"
# Modules that build or train Keras models: the only ones allowed to import TensorFlow.
KERAS_SIDE = "lstm_app.engine"
# The one module that imports Ray (optional at run time: requirements-ray.txt).
RAY_SIDE = "lstm_app.runs._ray"
HAVE_RAY = importlib.util.find_spec("ray") is not None


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(lstm_app.__path__, "lstm_app.")
                  if m.name != "lstm_app.__main__" and (HAVE_RAY or m.name != RAY_SIDE))


def _keras_side(name: str) -> bool:
    return name == KERAS_SIDE or name.startswith(KERAS_SIDE + ".")


# One fresh interpreter per rule (TensorFlow's import alone takes seconds): the last rule loads
# every module but runs._ray, so it also proves that the Keras side never imports Streamlit.
RULES = {
    "page-side modules never import tensorflow, keras or streamlit": (
        [m for m in _modules() if not _keras_side(m)], ("tensorflow", "keras", "streamlit")),
    "no module imports streamlit, and only runs._ray imports ray (the local executor needs no Ray)": (
        [m for m in _modules() if m != RAY_SIDE], ("ray", "streamlit")),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_layering(rule: str) -> None:
    """Imports are monotone, so one fresh interpreter that imports every module of the rule
    proves it for each; on failure, each module is tried alone to name the culprit."""
    modules, forbidden = RULES[rule]
    assert modules, rule
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            f"print(sorted(m for m in {forbidden!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=240, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    if out.stdout.strip() != "[]":
        culprits = [m for m in modules if subprocess.run(
            [sys.executable, "-c", f"import sys, {m}; sys.exit(any(x in sys.modules for x in {forbidden!r}))"],
            cwd=ROOT, timeout=240, check=False).returncode]
        pytest.fail(f"{rule}: {out.stdout.strip()} loaded by {culprits}")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute dotted names of what `path` imports (relative imports resolved)."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            out += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
            out.append((node.lineno, module))
    return out


def test_private_modules_stay_inside_their_subpackage() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "bench").glob("*.py"),
               ROOT / "dashboard.py", *(ROOT / "app_pages").glob("*.py")]
    bad = []
    for path in sources:
        owner = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
        for line, name in _imports(path):
            parts = name.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")]
            if parts[0] != "lstm_app" or not private:
                continue
            home = ".".join(parts[: private[0]])
            if owner != home:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "private modules imported from outside their subpackage:\n" + "\n".join(bad)
