#!/usr/bin/env bash
# Creates the roles, database, schema, publication, heartbeat table, DDL capture and signalling table
# (scripts/sql/bootstrap.sql, ddl_capture.sql: the statements a deployment runs through the RDS Data API), then the
# producer's tables. Idempotent. Connects as a superuser: over the private cluster's socket by default, or wherever
# the libpq variables PGHOST/PGPORT/PGUSER/PGPASSWORD point (Compose).
. "$(dirname "$0")/lib.sh"

python -m stack bootstrap-db
python -m producer create-schema
log "database $PG_DATABASE ready: schema $PG_SCHEMA, publication $PG_PUBLICATION"
