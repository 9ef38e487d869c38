#!/usr/bin/env bash
# Stops what `make local-up` started and removes the state folder. Drops the project's replication
# slot first so PostgreSQL keeps no WAL for it. Touches only processes started by our supervisord
# (its pid file) and files under STATE_DIR; safe to run twice.
. "$(dirname "$0")/lib.sh"

if supervisord_running; then
  if program_running connect; then
    log "deleting connector $CONNECTOR_NAME"
    curl -sS -o /dev/null -X DELETE "http://$CONNECT_HOST:$CONNECT_PORT/connectors/$CONNECTOR_NAME" || true
  fi
  supervisorctl stop producer connect >/dev/null || true
  if program_running postgres; then
    log "dropping replication slot $PG_SLOT"
    psql_admin -d "$PG_DATABASE" -c \
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$PG_SLOT'" >/dev/null
  fi
  log "stopping the local stack (supervisord pid $(cat "$STATE_DIR/supervisord.pid"))"
  stop_supervisord
else
  log "local stack: not running"
fi
if [ -d "$STATE_DIR" ]; then
  log "removing $STATE_DIR"
  rm -rf "$STATE_DIR"
fi
