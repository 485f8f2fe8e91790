#!/usr/bin/env bash
# The main job: the tinyface pipeline on the embedded synthetic data (or `run.sh --data DIR ...`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
exec .venv/bin/tinyface run "$@"
