#!/usr/bin/env bash
# Set up (if needed) and run the default experiment with its plots.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/gcsim run configs/default.toml --out results/default "$@"
