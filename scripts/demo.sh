#!/usr/bin/env bash
# Sets up a virtualenv, builds and installs rlforensics, and scans the bundled sample runs
# (examples/runs: synthetic healthy and faulty runs in JSONL, CSV, trainer_state.json and
# TensorBoard form; examples/data: two real TRL runs). Needs only the Rust toolchain and
# CPython >= 3.10. The scan exits 1 because some sample runs have critical anomalies (that is
# what they are for); any other failure stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip maturin
python -m pip install -q --no-build-isolation .
status=0
rlforensics scan examples/runs examples/data "$@" || status=$?
if [ "$status" -gt 1 ]; then
    exit "$status"
fi
