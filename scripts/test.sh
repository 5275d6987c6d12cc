#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export GOTOOLCHAIN=local
.venv/bin/python -m pytest -q "$@"
