"""``python -m lstm_app``: the headless command line (see `lstm_app.cli`)."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
