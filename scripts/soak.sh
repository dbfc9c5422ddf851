#!/usr/bin/env bash
# Is the suite flaky? Run the whole pytest suite N times (default 5; on 2 processes, as
# scripts/test.sh does) in a clean clone of this checkout's HEAD, then once more beside a CPU hog
# (2 busy-loop processes that this script starts and always stops), and print each run's result
# and time. Extra arguments go to pytest, e.g.
#   ./scripts/soak.sh 1 tests/test_store.py      # one plain run and one hogged run of a subset
# Exit status: 0 when every run passed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
shift || true
clone="$(mktemp -d "${TMPDIR:-/tmp}/lstm-lab-soak.XXXXXX")"
kept="${TMPDIR:-/tmp}/lstm-lab-soak-logs-$(date +%Y%m%d-%H%M%S)"  # the logs of failed runs
hogs=()
cleanup() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$clone"
}
trap cleanup EXIT INT TERM
git clone --quiet --no-hardlinks "$root" "$clone/lab"
git -C "$clone/lab" checkout --quiet "$(git -C "$root" rev-parse HEAD)"
ln -s "$(readlink -f "$root/.venv")" "$clone/lab/.venv"
cd "$clone/lab"

failures=0
results=()
run_once() {  # run_once LABEL: one whole pytest run, its result and time recorded
  local label="$1" start end code=0
  start=$(date +%s)
  .venv/bin/python -m pytest -q -p no:cacheprovider -n "${LSTM_LAB_TEST_PROCESSES:-2}" --dist load "${@:2}" >"$clone/$label.log" 2>&1 || code=$?
  end=$(date +%s)
  local verdict="pass"
  [ "$code" = 0 ] || { verdict="FAIL (exit $code)"; failures=$((failures + 1)); mkdir -p "$kept"; cp "$clone/$label.log" "$kept/"; }
  results+=("$label: $verdict, $((end - start)) s, $(tail -n 1 "$clone/$label.log")")
  echo "${results[-1]}"
}

for i in $(seq 1 "$runs"); do
  run_once "run-$i" "$@"
done
# Two busy loops beside the suite (as `stress --cpu 2` would), stopped by the trap whatever happens.
for _ in 1 2; do
  ( while :; do :; done ) &
  hogs+=("$!")
done
run_once "hogged" "$@"
for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done

echo
echo "soak: $((runs + 1)) runs, $failures failed$([ "$failures" = 0 ] || echo " (their logs: $kept)")"
printf '  %s\n' "${results[@]}"
[ "$failures" = 0 ]
