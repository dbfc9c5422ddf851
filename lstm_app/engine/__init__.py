"""Training: the per-run Keras path (`train`) and the batched path (`batched`). Imports TensorFlow.

TensorFlow prints C++ start-up lines ("oneDNN custom operations are on", "Could not find cuda
drivers") before its logging is initialised, where `TF_CPP_MIN_LOG_LEVEL` cannot reach them; the
import is done here once with the process's stderr file descriptor silenced, so the CLI and the
worker logs stay readable. Python exceptions still propagate.
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


if "tensorflow" not in sys.modules:
    with _quiet_stderr():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
