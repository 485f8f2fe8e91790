#!/usr/bin/env bash
# The test suite: unit tests and the LocalDagRunner pipeline tests (`test.sh -m "not pipeline"`
# for the fast ones only).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
# Two workers (TINYFACE_TEST_WORKERS; 0 runs in this process): a test here keeps about one core
# busy on average (pipeline components are single-threaded Python and Beam; processes start
# and import TensorFlow), so on a 2-core CPU two at once ran the suite in 21 min where one took
# 34 (EPYC Zen 3, 2026-12-07 and -06). Each test file stays on one worker, so its module
# fixtures are built once. (Handing out the long pipeline tests first measured no better:
# 22 min, as they then train side by side.)
exec .venv/bin/python -m pytest -q -n "${TINYFACE_TEST_WORKERS:-2}" --dist loadfile "$@"
