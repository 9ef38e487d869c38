#!/usr/bin/env bash
# Renders connectors/postgres-source.json.tmpl and registers it with Kafka Connect
# (PUT /connectors/<name>/config: creates or updates, so running it twice is harmless), then waits
# until the connector and its task are RUNNING; on failure prints the task's trace and exits 1.
. "$(dirname "$0")/lib.sh"

CONNECT_URL="http://$CONNECT_HOST:$CONNECT_PORT"
: "${CONNECTOR_DB_HOST:=$PG_HOST}" "${CONNECTOR_DB_PORT:=$PG_PORT}"
# The password never enters the connector config, only a reference the worker resolves. Locally, as on MSK
# Connect, it is a Secrets Manager secret (CONNECTOR_DB_SECRET, written here on the local AWS endpoint) read by
# the worker's secretsmanager config provider. Where SECRETS_FILE is given (Compose mounts that file into its
# worker, which runs Kafka's file provider), the reference is to the file.
if [ -z "${CONNECTOR_DB_PASSWORD_REF:-}" ]; then
  if [ -n "${SECRETS_FILE:-}" ]; then
    CONNECTOR_DB_PASSWORD_REF="\${file:$SECRETS_FILE:password}"
  else
    python -m stack wait aws
    CONNECTOR_DB_PASSWORD_REF=$(python -m stack put-connector-secret)
  fi
fi
export CONNECTOR_DB_HOST CONNECTOR_DB_PORT CONNECTOR_DB_PASSWORD_REF

config=$(python -m stack render-connector)
python -m stack wait connect
current=$(curl -sS "$CONNECT_URL/connectors/$CONNECTOR_NAME/config")
# An identical PUT would still restart the connector: leave a running, unchanged one alone.
if [ "$(jq -S 'del(.name)' <<<"$current" 2>/dev/null)" = "$(jq -S . <<<"$config")" ]; then
  log "connector $CONNECTOR_NAME: already registered with this config"
  python -m stack wait-connector "$CONNECTOR_NAME"
  exit 0
fi
log "registering connector $CONNECTOR_NAME at $CONNECT_URL"
curl -sS --fail-with-body -X PUT -H 'Content-Type: application/json' \
  --data "$config" "$CONNECT_URL/connectors/$CONNECTOR_NAME/config" >/dev/null \
  || die "Kafka Connect rejected connector $CONNECTOR_NAME (see the response above)"
python -m stack wait-connector "$CONNECTOR_NAME"
