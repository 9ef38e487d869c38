#!/usr/bin/env bash
# Brings the whole local pipeline up as supervised processes: PostgreSQL, Kafka (KRaft), the local AWS
# endpoint, the lake's object store, Kafka Connect with Debezium, the registered connector, the Glue job
# (spark-submit) and the producer. Each step checks what is already there first, so running it again changes
# nothing that runs, and after `make local-down` it resumes on the data the stack kept.
# With --services it stops short of the pipeline itself (connector, job, producer): what a deployment on the local
# AWS endpoint (make aws-apply TARGET=local) runs on, leaving alone a connector or job an operator stopped.
. "$(dirname "$0")/lib.sh"

services_only=false
case "${1:-}" in
  --services) services_only=true ;;
  "") ;;
  *) die "usage: $0 [--services]" ;;
esac

"$ROOT/scripts/install.sh"
PG_BIN=$(pg_bindir) && export PG_BIN  # install.sh may just have installed PostgreSQL
mkdir -p "$STATE_DIR"/{logs,conf,kafka/data,objectstore,aws}

init_postgres() {
  local data="$STATE_DIR/postgres/data"
  [ -f "$data/PG_VERSION" ] && return
  log "initialising a private PostgreSQL cluster in $data"
  as_pg_user test -x "$STATE_DIR" ||
    die "the $PG_OS_USER OS user cannot reach $STATE_DIR (PostgreSQL will not run as root); set STATE_DIR in .env to a folder it can reach, e.g. /var/tmp/cdc-lake"
  mkdir -p "$STATE_DIR/postgres/run" && chown -R "$PG_OS_USER" "$STATE_DIR/postgres"
  as_pg_user "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$STATE_DIR/logs/initdb.log"
  echo "include 'cdc-lake.conf'" >>"$data/postgresql.conf"
}

# The project's settings are copied into the cluster, so the server never reads the repository.
copy_postgres_conf() {
  install -m 644 -o "$PG_OS_USER" "$ROOT/config/postgresql.conf" "$STATE_DIR/postgres/data/cdc-lake.conf"
}

render_configs() {
  envsubst <"$ROOT/config/kafka.properties.tmpl" >"$STATE_DIR/conf/kafka.properties"
  envsubst <"$ROOT/config/connect-worker.properties.tmpl" >"$STATE_DIR/conf/connect-worker.properties"
}

format_kafka() {
  [ -f "$STATE_DIR/kafka/data/meta.properties" ] && return
  log "formatting Kafka's KRaft storage in $STATE_DIR/kafka/data"
  local cp="$BUILD_DIR/jvm/kafka/*" id
  id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid)
  java -Dlog4j2.configurationFile="$ROOT/config/log4j2.properties" -cp "$cp" kafka.tools.StorageTool \
    format --standalone -t "$id" -c "$STATE_DIR/conf/kafka.properties" >"$STATE_DIR/logs/kafka-format.log"
}

# start COMPONENT...: start those not running yet (after checking their ports are free), then wait
# until all of them answer (a running process may still be starting up).
start() {
  local name to_start=()
  for name in "$@"; do
    if program_running "$name"; then log "$name: already running"; else to_start+=("$name"); fi
  done
  if [ ${#to_start[@]} -gt 0 ]; then
    python -m stack check-ports "${to_start[@]}"
    for name in "${to_start[@]}"; do supervisorctl start "$name" >/dev/null || true; done
  fi
  python -m stack wait "$@"
}

# Checked before anything is rendered or started: a refused change must leave the stack as it was.
# The settings supervisord's programs run with: its environment is fixed when it starts.
settings_now() { env | grep -E "^($(grep -oE '^[A-Z_0-9]+' "$ROOT/.env.example" | paste -sd'|'))=" | sort; }
# Settings that shape no data, read by the programs when they start: a restart applies them.
RESTART_ONLY="KAFKA_HEAP CONNECT_HEAP JOB_TRIGGER_SECONDS JOB_DRIVER_MEMORY JOB_READY_TIMEOUT
  MAINTENANCE_INTERVAL_SECONDS MAINTENANCE_DRIVER_MEMORY PRODUCER_AUTOSTART PRODUCER_RATE READY_TIMEOUT"
if [ -f "$STATE_DIR/settings.env" ]; then  # the stack's data was made with these
  # a setting on both sides of the diff changed; one on one side only is new (its default applies) or gone
  changed=$(settings_now | diff - "$STATE_DIR/settings.env" | grep -oE '^[<>] [A-Z_0-9]+' | cut -c3- | sort | uniq -d) || true
  shaping=$(grep -vxF -f <(printf '%s\n' $RESTART_ONLY) <<<"$changed" | paste -sd' ') || true
  [ -z "$shaping" ] || die "settings changed since the stack's data was made ($shaping); to apply them: make teardown && make local-up (teardown removes the stack's data)"
  changed=$(paste -sd' ' <<<"$changed")
  if [ -n "$changed" ] && supervisord_running; then
    log "note: settings changed since the stack started ($changed); the running stack keeps the old ones: make local-down && make local-up applies them and keeps the data"
  elif [ -n "$changed" ]; then
    log "applying the settings changed since the last start: $changed"
  fi
fi
init_postgres
copy_postgres_conf
render_configs
format_kafka
if supervisord_running; then
  log "supervisord: already running (pid $(cat "$STATE_DIR/supervisord.pid"))"
else
  python -m stack check-ports postgres kafka aws objectstore connect  # before anything starts
  settings_now >"$STATE_DIR/settings.env"
  "$VENV/bin/supervisord" -c "$ROOT/config/supervisord.conf"
fi

start postgres kafka aws objectstore
"$ROOT/scripts/bootstrap-db.sh"
start connect
if [ "$services_only" = true ]; then
  log "the services are up (the local pipeline's own connector, job and producer left as they are)"
  exit 0
fi
"$ROOT/scripts/register-connector.sh"
if program_running glue; then log "glue: already running"
else
  supervisorctl start glue >/dev/null
  python -m stack wait-job
fi
if program_running maintenance; then log "maintenance: already running"
else supervisorctl start maintenance >/dev/null && log "maintenance: a round every $MAINTENANCE_INTERVAL_SECONDS s"; fi
if [ "$PRODUCER_AUTOSTART" = true ]; then
  if program_running producer; then log "producer: already running"
  else supervisorctl start producer >/dev/null && log "producer: started at $PRODUCER_RATE changes/s"; fi
fi

cat <<INFO

Local pipeline is up (state and logs in $STATE_DIR):
  PostgreSQL      postgresql://$PG_APP_USER@$PG_HOST:$PG_PORT/$PG_DATABASE   (schema $PG_SCHEMA)
  Kafka           $KAFKA_HOST:$KAFKA_PORT
  Kafka Connect   http://$CONNECT_HOST:$CONNECT_PORT/connectors/$CONNECTOR_NAME/status
  AWS endpoint    http://$AWS_ENDPOINT_HOST:$AWS_ENDPOINT_PORT   (state in $STATE_DIR/aws)
  Object store    http://$OBJECT_STORE_HOST:$OBJECT_STORE_PORT   (files in $STATE_DIR/objectstore)
  Lake            s3://$LAKE_BUCKET (Iceberg tables $LAKE_DATABASE.*, catalog in PostgreSQL schema $LAKE_CATALOG_SCHEMA)
Watch changes flow:  make watch TABLE=orders     The lake:  make lake TABLE=orders     Everything:  make status
Stop, keeping the data:  make local-down         Stop and remove everything:  make teardown
INFO
