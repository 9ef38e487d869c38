#!/usr/bin/env bash
# Creates the roles, database, schema, publication, heartbeat table, DDL capture and signalling table
# (scripts/sql/bootstrap.sql, ddl_capture.sql),
# then the producer's tables. Idempotent. Connects as a superuser: over the private cluster's socket
# by default, or wherever the libpq variables PGHOST/PGPORT/PGUSER/PGPASSWORD point (Compose).
. "$(dirname "$0")/lib.sh"

run_psql() {
  export PGOPTIONS="-c client_min_messages=warning"
  if [ -n "${PGHOST:-}" ]; then psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
  else psql_admin -d postgres "$@"; fi
}

run_psql -v db="$PG_DATABASE" -v schema="$PG_SCHEMA" \
  -v app_user="$PG_APP_USER" -v app_password="$PG_APP_PASSWORD" \
  -v cdc_user="$PG_CDC_USER" -v cdc_password="$PG_CDC_PASSWORD" \
  -v publication="$PG_PUBLICATION" -f "$ROOT/scripts/sql/bootstrap.sql"
python -m producer create-schema
log "database $PG_DATABASE ready: schema $PG_SCHEMA, publication $PG_PUBLICATION"
