"""LSTM Activation Lab: compare activations in stacked LSTMs on your own time series.

Subpackages, by concern (the data flow runs top to bottom):

    spec, params, windows   frozen specs (JSON round-trip), the layer plan and closed-form counts,
                            chronological split and train-only scaling
    data/                   CSV bytes -> a clean typed series, or a one-sentence DataError
    runs/                   the SQLite run store, the runner and its worker processes, headless runs,
                            results loaded back from the store
    engine/                 training (imports TensorFlow; only workers and the CLI load it)
    report/                 metrics, statistics, comparisons, verdicts, charts, exports
    outcome                 what a run produces, typed
    num                     finite_or_none: the one reading of loose numbers (the lowest module)
    ui/                     the page's state, forms and words (no Streamlit: the page draws them)
    cli, presets

Nothing here imports Streamlit, and only `lstm_app.engine` imports TensorFlow (tests/test_layering.py).
"""

from .errors import DataError, LabError, QueueFullError, SpecError, StoreError

__all__ = ["DataError", "LabError", "QueueFullError", "SpecError", "StoreError", "__version__"]
__version__ = "0.1.0"
