#!/usr/bin/env bash
# Sets up a virtualenv, builds and installs rlforensics, and runs the worked example on the
# bundled sample runs (examples/data/). Needs only the Rust toolchain and CPython >= 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip maturin
python -m pip install -q --no-build-isolation .
python examples/quickstart.py "$@"
