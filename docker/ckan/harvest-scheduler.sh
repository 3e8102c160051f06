#!/usr/bin/env bash
# Harvest scheduler of the harvester-run service: runs `ckan harvester run` every HARVEST_INTERVAL
# seconds (default 60), like the local stack's harvest-scheduler process (scripts/stack.py). Each run
# queues the jobs whose source is due and marks finished jobs as finished; without it, harvest jobs
# stay "Running" forever. A failed run is logged and retried at the next tick; it never stops the loop.
set -uo pipefail

interval=${HARVEST_INTERVAL:-60}
heartbeat=${HARVEST_HEARTBEAT_FILE:-/tmp/harvest-scheduler.heartbeat}
[[ $interval =~ ^[1-9][0-9]*$ ]] || { echo "[harvest-scheduler] error: HARVEST_INTERVAL must be a positive number of seconds, not '$interval'" >&2; exit 1; }

# Stop at once on `docker compose stop` instead of waiting out the sleep.
trap 'echo "[harvest-scheduler] stopping" >&2; kill "$!" 2>/dev/null; exit 0' TERM INT

echo "[harvest-scheduler] running 'ckan harvester run' every ${interval} s" >&2
while true; do
  if ckan -c "${CKAN_INI:-/srv/app/ckan.ini}" harvester run; then
    # The health check of the service reads the age of this file.
    touch "$heartbeat"
  else
    echo "[harvest-scheduler] $(date -u +%Y-%m-%dT%H:%M:%SZ) 'ckan harvester run' failed; next try in ${interval} s" >&2
  fi
  # In the background, so that the trap runs as soon as a signal arrives.
  sleep "$interval" &
  wait $!
done
