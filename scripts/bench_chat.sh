#!/usr/bin/env bash
# The chat benchmark (not part of the tests): set-up, then bench/chat.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh
scripts/services.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [ ! -x .venv-litellm/bin/litellm ]; then
  python3 -m venv .venv-litellm
  .venv-litellm/bin/pip install -q 'litellm[proxy]'
fi
exec .venv/bin/python bench/chat.py "$@"
