"""The run layer: the SQLite store (single source of truth), the runner and its executors (local
worker processes by default, Ray opt-in: `runs.executor`), the worker entry point and the
headless (in-process) experiment runner.

Nothing imported by `import lstm_app.runs` loads TensorFlow; only `runs.worker` and
`runs.headless` do, inside the functions that train. Nothing imports Ray but `runs._ray`, which
the runner imports only when the Ray executor is chosen.
"""
