#!/usr/bin/env bash
# Install what the dashboard needs into .venv (once) and start it on http://127.0.0.1:8501.
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv requirements.txt
exec .venv/bin/python -m streamlit run dashboard.py "$@"
