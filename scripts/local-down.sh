#!/usr/bin/env bash
# Stops every component of the local stack and keeps all of its data in STATE_DIR: the database and its replication
# slot, Kafka's topics and Connect's offsets, the lake in the object store, the job's checkpoint, the AWS endpoint's
# state. `make local-up` afterwards resumes where it stopped. Touches only what our supervisord started.
. "$(dirname "$0")/lib.sh"

if supervisord_running; then
  log "stopping the local stack (supervisord pid $(cat "$STATE_DIR/supervisord.pid")); its data stays in $STATE_DIR"
  stop_supervisord
  log "stopped; make local-up resumes it, make teardown removes it"
elif [ -d "$STATE_DIR" ]; then
  log "local stack: not running (its data is in $STATE_DIR)"
else
  log "local stack: not running"
fi
