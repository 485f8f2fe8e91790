#!/usr/bin/env bash
# The test suite: unit tests and the LocalDagRunner pipeline tests (`test.sh -m "not pipeline"`
# for the fast ones only).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
exec .venv/bin/python -m pytest -q "$@"
