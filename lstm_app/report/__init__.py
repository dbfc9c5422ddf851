"""From stored runs to answers: metrics, paired statistics, comparisons, verdicts, charts and
exports (Keras code, styled tables). No TensorFlow, no Streamlit, no run store: `runs` loads the
results and hands them here.

The names below are what the page and the CLI use. They load on first use (PEP 562), so a worker
that computes metrics (`report.metrics`) does not load plotly or scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from . import charts
    from .compare import Comparison, MetricValues, ModelSummary, TableColumn, summarize
    from .compare_view import CompareView
    from .results import BEST_CSS, inside_table, keras_script, styled_table

# public name -> the submodule that defines it (a submodule itself when the two are equal)
_HOME = {
    "charts": "charts", "CompareView": "compare_view", "TableColumn": "compare",
    "Comparison": "compare", "MetricValues": "compare", "ModelSummary": "compare", "summarize": "compare",
    "BEST_CSS": "results", "inside_table": "results", "keras_script": "results", "styled_table": "results",
}
__all__ = ["BEST_CSS", "CompareView", "Comparison", "MetricValues", "ModelSummary", "TableColumn", "charts",
           "inside_table", "keras_script", "styled_table", "summarize"]


__getattr__ = exports(__name__, _HOME)
