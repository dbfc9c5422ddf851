"""From stored runs to answers: metrics, paired statistics, comparisons, verdicts, charts and
exports (results.json, Keras code). No TensorFlow, no Streamlit."""
