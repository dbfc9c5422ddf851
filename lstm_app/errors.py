"""The package's one exception hierarchy.

    LabError                 base of everything this package raises on purpose
    ├── DataError            a CSV (or a column choice) cannot be used; message is one sentence
    ├── SpecError            a spec field is invalid (also a ValueError, Keras-style message)
    ├── StoreError           the run store cannot do what was asked (unknown id, bad schema)
    ├── FitError             a reference forecaster cannot be fitted on these rows (says why)
    ├── QueueFullError       the background runner refused a submission (too much queued)
    └── ExportError          an export to an outside tracker (MLflow) failed: no package, URI unreachable or refused

Every message is one sentence a user can act on: what, where, what was expected, what was found.
"""

from __future__ import annotations

__all__ = ["DataError", "ExportError", "FitError", "LabError", "QueueFullError", "SpecError", "StoreError"]


class LabError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(LabError):
    """A CSV or a column choice that cannot be used."""


class SpecError(LabError, ValueError):
    """An invalid value in a model, training or experiment spec."""


class StoreError(LabError):
    """The run store cannot do what was asked."""


class FitError(LabError):
    """A forecaster (a baseline or a statistical reference) cannot be fitted on the rows it was
    given; the message is the reason in words ("it needs a whole season (12 points) of history")."""


class QueueFullError(LabError):
    """The background runner refused a submission because its queue is full."""


class ExportError(LabError):
    """An export to an outside experiment tracker (MLflow) failed; nothing in the app's store changed."""
