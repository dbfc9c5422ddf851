"""Training: the per-run Keras path (`train`) and the batched path (`batched`). Imports TensorFlow.

TensorFlow prints C++ start-up lines ("oneDNN custom operations are on", "Could not find cuda
drivers") before its logging is initialised, where `TF_CPP_MIN_LOG_LEVEL` cannot reach them; the
import is done here once with the process's stderr file descriptor silenced, so the CLI and the
worker logs stay readable. Python exceptions still propagate.

Keras imports scikit-learn and matplotlib when they are installed (for its sklearn wrappers and
an image-gallery plot, both inside `try: ... except ImportError`); nothing here uses either, and
together they are about a quarter of a worker's start-up (1.5 of ~5.5 CPU seconds here:
`bench/bench_startup.py`). While Keras loads they are hidden (`sys.modules[name] = None` makes
their import raise ImportError), then unhidden, so a later `import sklearn` works as usual.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (C++ writes bypass sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


# Installed by other requirements (MLflow, statsmodels' extras), unused by training.
_UNUSED_BY_KERAS = ("sklearn", "matplotlib")


@contextlib.contextmanager
def _hidden(names: tuple[str, ...]) -> Iterator[None]:
    """Make `import NAME` raise ImportError for the duration, for each name not yet imported."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


if "tensorflow" not in sys.modules:
    with _quiet_stderr(), _hidden(_UNUSED_BY_KERAS):
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
