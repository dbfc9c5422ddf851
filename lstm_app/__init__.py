"""LSTM Activation Lab: compare activations in stacked LSTMs on your own time series.

Nothing here imports Streamlit, and nothing imported by `import lstm_app` imports TensorFlow;
only `lstm_app.model`, `lstm_app.train` and `lstm_app.worker` do.
"""

from .errors import DataError, LabError, QueueFullError, SpecError, StoreError

__all__ = ["DataError", "LabError", "QueueFullError", "SpecError", "StoreError", "__version__"]
__version__ = "0.1.0"
