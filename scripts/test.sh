#!/usr/bin/env bash
# The test command: set-up, linters, type checks, the import contract, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
scripts/services.sh
bin=.venv/bin
echo "== ruff"; $bin/ruff check src tests bench alembic setup.py && $bin/ruff format --check src tests bench alembic setup.py
echo "== mypy"; $bin/mypy
echo "== import contracts"; $bin/lint-imports
echo "== pytest"
$bin/pytest tests --cov=smarter --cov-report=term:skip-covered "$@"
