#!/usr/bin/env bash
# Start the local PostgreSQL and Redis where they are installed but stopped (as on CI), then
# wait until both answer. Does nothing for a service that already runs or is not installed here.
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if command -v pg_isready >/dev/null && ! pg_up && command -v pg_ctlcluster >/dev/null; then
  echo "Starting PostgreSQL…"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
if command -v redis-server >/dev/null && ! redis_up; then
  echo "Starting Redis…"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for _ in $(seq 1 60); do
  if (! command -v pg_isready >/dev/null || pg_up) && (! command -v redis-cli >/dev/null || redis_up); then
    exit 0
  fi
  sleep 0.5
done
echo "PostgreSQL or Redis did not come up" >&2
exit 1
