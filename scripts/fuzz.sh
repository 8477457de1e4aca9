#!/usr/bin/env bash
# The API fuzz run (not part of the tests): set-up, Schemathesis in its own venv, then
# bench/fuzz_api.py, which starts the platform on a free port and fuzzes its OpenAPI schema.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
if [ ! -x .venv-fuzz/bin/st ]; then
  echo "installing schemathesis into .venv-fuzz ..."
  python3 -m venv .venv-fuzz
  .venv-fuzz/bin/python -m pip install -q schemathesis
fi
exec .venv/bin/python bench/fuzz_api.py "$@"
