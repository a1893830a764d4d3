#!/usr/bin/env bash
# The production launch of the ooi_status HTTP API: gunicorn, gevent workers, port 9000.
#
# Settings come from OOISTATUS_SETTINGS / OOISTATUS_<NAME> as for every command. Knobs:
#   OOISTATUS_WORKERS     worker processes (default 2)
#   OOISTATUS_BIND        address to listen on (default 0.0.0.0:9000)
#   OOISTATUS_ACCESS_LOG  access log file, "-" = standard output (default)
#   OOISTATUS_ERROR_LOG   error log file, "-" = standard error (default)
#   PROMETHEUS_MULTIPROC_DIR  where the workers' HTTP metrics add up (default: a private
#                         temporary folder; emptied at start, see ooi_status/gunicorn_conf.py)
# ooi_status.gunicorn_conf also turns gunicorn's control socket off (two servers on one host
# would share its default path) and gives gunicorn's log lines ooi_status's format.
# Signals to the master (the first process): HUP reloads settings and replaces the workers
# gracefully; TERM stops after in-flight requests finish (30 s at most).
# The default command line keeps "0.0.0.0:9000 ooi_status.api:app" together, so that
# `ps -fewH | grep "9000 ooi_status"` finds the master and its workers.
set -euo pipefail

# psycopg2 yields to other greenlets while it waits on PostgreSQL (see ooi_status/api/__init__.py).
export PSYCOGREEN=true

options=(
  -c python:ooi_status.gunicorn_conf
  --access-logfile "${OOISTATUS_ACCESS_LOG:--}"
  --error-logfile "${OOISTATUS_ERROR_LOG:--}"
  --graceful-timeout 30
  --keep-alive 5
  -w "${OOISTATUS_WORKERS:-2}"
  -k gevent
)

if [ -n "${OOISTATUS_BIND:-}" ] && [ "${OOISTATUS_BIND}" != "0.0.0.0:9000" ]; then
  exec gunicorn "${options[@]}" -b "${OOISTATUS_BIND}" ooi_status.api:app
fi
exec gunicorn "${options[@]}" -b 0.0.0.0:9000 ooi_status.api:app
