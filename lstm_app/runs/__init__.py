"""The run layer: the SQLite store (single source of truth), the runner that supervises worker
processes, the worker entry point and the headless (in-process) experiment runner.

Nothing imported by `import lstm_app.runs` loads TensorFlow; only `runs.worker` and
`runs.headless` do, inside the functions that train.
"""
