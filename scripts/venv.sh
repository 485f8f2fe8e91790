#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs tinyface (pinned) into it; reuses it when the
# pins have not changed since the last install. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

is_py310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

if [ ! -x .venv/bin/python ] || ! is_py310 .venv/bin/python; then
  # .python-version makes pyenv's `python` 3.10; otherwise look for python3.10 on PATH.
  python=""
  for candidate in python3.10 python python3; do
    if command -v "$candidate" >/dev/null 2>&1 && is_py310 "$(command -v "$candidate")"; then
      python=$(command -v "$candidate"); break
    fi
  done
  if [ -z "$python" ]; then
    echo "tinyface needs Python 3.10 (TFX 1.16 does not install on newer Pythons); none found" >&2
    exit 1
  fi
  rm -rf .venv
  "$python" -m venv .venv
fi

stamp=.venv/.tinyface-installed
# The editable install maps the packages that exist when it runs: a new top-level package
# must trigger a reinstall as much as a changed pin does.
want=$( (cat setup.py; ls -d */__init__.py) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing tinyface and its pinned dependencies into .venv (first time: ~4 minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade "pip==26.3" "setuptools==84.2.1" "wheel==0.48.0"
  .venv/bin/python -m pip install --quiet -e ".[test]"
  echo "$want" > "$stamp"
fi
