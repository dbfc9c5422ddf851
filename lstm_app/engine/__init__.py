"""Training: the per-run Keras path and the batched path."""
