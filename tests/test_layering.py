"""The package's layering rules, checked on every module (one place instead of one test per module).

- Page-side modules (everything but `lstm_app.engine`'s Keras modules) never import TensorFlow or
  Keras: the Streamlit process imports them, and it must stay fast and survive a crashing worker.
- Nothing in the package imports Streamlit; only `dashboard.py` and `app_pages/` do.
- MLflow is optional (requirements-mlflow.txt): only `runs.mlflow_export` imports it, inside the
  functions that export, so importing any module (the page's included) loads no MLflow.
- A private module (`_name.py`) is imported only from inside its own subpackage (tests may
  white-box a subpackage's internals; the package, the pages and the benchmarks may not).
- No import cycle between the package's parts (each subpackage, and each top-level module, is one
  node), counting imports inside functions too: data flows one way.
- Each subpackage's `__all__` names resolve (the page and the CLI import only those names).
"""

from __future__ import annotations

import ast
import importlib
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
# The one module that imports MLflow (optional: requirements-mlflow.txt), and only inside functions.
MLFLOW_SIDE = "lstm_app.runs.mlflow_export"


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
    "no module loads mlflow on import, runs.mlflow_export included (it imports MLflow when it exports)": (
        [m for m in _modules() if m != RAY_SIDE], ("mlflow",)),
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


def test_keras_loads_without_scikit_learn_and_matplotlib_which_stay_importable() -> None:
    """Keras imports both when installed; the engine hides them while Keras loads (a quarter of a
    worker's start-up) and then unhides them."""
    code = ("import sys\n"
            "import lstm_app.engine, lstm_app.engine.batched, lstm_app.engine.train, keras\n"
            "loaded = sorted(m for m in ('sklearn', 'matplotlib') if m in sys.modules)\n"
            "import sklearn, matplotlib\n"
            "print(loaded, sklearn.__name__, matplotlib.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=240,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[]", "sklearn", "matplotlib"], out.stdout


def test_only_the_exporter_imports_mlflow_and_the_page_loads_none() -> None:
    """Statically, counting imports inside functions (the runtime rule above sees only import
    time); and at run time, the page's modules as Streamlit loads them."""
    sources = [*PACKAGE.rglob("*.py"), ROOT / "dashboard.py", *(ROOT / "app_pages").glob("*.py")]
    importers = sorted(f"{path.relative_to(ROOT)}:{line}" for path in sources for line, name in _imports(path)
                       if name.split(".")[0] == "mlflow")
    exporter = str(Path(*MLFLOW_SIDE.split(".")).with_suffix(".py"))
    assert importers and all(i.startswith(exporter + ":") for i in importers), importers
    code = ("import sys\n"
            "import app_pages.common, app_pages.tracking, lstm_app.runs.mlflow_send\n"
            "print(sorted(m for m in ('mlflow', 'tensorflow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=240,
                         check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


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


def _part(name: str) -> str | None:
    """The part of the package that module `name` belongs to: its subpackage, or the top-level
    module itself (`lstm_app.runs.store` -> `runs`, `lstm_app.spec.ModelSpec` -> `spec`)."""
    parts = name.split(".")
    if parts[0] != "lstm_app" or len(parts) < 2:
        return None
    found = (PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file()
    return parts[1] if found else None


def _part_graph() -> dict[str, dict[str, str]]:
    """part -> {imported part: where (path:line)}, from every module of the package."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _part(".".join(path.relative_to(ROOT).with_suffix("").parts))
        assert source is not None, path
        edges = graph.setdefault(source, {})
        for line, name in _imports(path):
            target = _part(name)
            if target is not None and target != source:
                edges.setdefault(target, f"{path.relative_to(ROOT)}:{line}")
    return graph


def _cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": ""}, "b": {}}) == []


def test_no_cycles_between_packages() -> None:
    graph = _part_graph()
    assert {"data", "engine", "report", "runs", "spec"} <= set(graph)
    found = _cycles(graph)
    where = [f"{a} -> {b} at {graph[a][b]}" for cycle in found for a in cycle for b in cycle if b in graph[a]]
    assert not found, f"import cycles between parts of lstm_app: {found}\n" + "\n".join(where)


@pytest.mark.parametrize("package", ["data", "report", "runs", "ui"])
def test_public_names_resolve(package: str) -> None:
    module = importlib.import_module(f"lstm_app.{package}")
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert not missing, f"lstm_app.{package}.__all__ names that do not resolve: {missing}"
