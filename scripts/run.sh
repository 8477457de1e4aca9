#!/usr/bin/env bash
# The run command: set-up, then the platform on http://localhost:9357 (embedded default).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
exec .venv/bin/smarter serve "$@"
