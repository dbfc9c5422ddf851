#!/usr/bin/env bash
# Install everything the tests need (Python packages into .venv, Debian's chromium for the
# browser test), lint with ruff, type-check with mypy, then run the whole pytest suite. Extra
# arguments go to pytest. The tests run in 2 processes (pytest-xdist; LSTM_LAB_TEST_PROCESSES
# changes the count, 0 runs them in this one).
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
ensure_venv requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser test..."
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq chromium >/dev/null 2>&1 || {
    $sudo_cmd apt-get update -qq >/dev/null && $sudo_cmd apt-get install -y -qq chromium >/dev/null
  }
fi
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy  # strict, over lstm_app and app_pages (pyproject.toml)
exec .venv/bin/python -m pytest -n "${LSTM_LAB_TEST_PROCESSES:-2}" --dist load "$@"
