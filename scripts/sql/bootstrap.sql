-- The pipeline's roles and objects in the captured database. Idempotent, and the same statements locally and on
-- Aurora (python/stack/database.py fills in the :'names' and runs them one by one): `make local-up` as the local
-- cluster's superuser (scripts/bootstrap-db.sh), `make aws-apply` through the RDS Data API as Aurora's master user
-- (python/deploy). Then ddl_capture.sql.

CREATE SCHEMA IF NOT EXISTS cdc;

-- A role's password, given as a bound parameter (SELECT cdc.set_password($1, $2)), so that it is never in the text of
-- a statement (the Data API's requests, the server's statement log).
CREATE OR REPLACE FUNCTION cdc.set_password(role_name text, password text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, password);
END
$$;
REVOKE EXECUTE ON FUNCTION cdc.set_password(text, text) FROM PUBLIC;

-- Debezium's role: it may stream the WAL and read the captured tables, nothing else (its password: then
-- cdc.set_password, from the setting locally, from its secret on AWS).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'cdc_user') THEN
        CREATE ROLE :"cdc_user" LOGIN;
    END IF;
    -- streaming the WAL: Aurora grants it through its rds_replication role (its master user may not give the
    -- REPLICATION attribute), PostgreSQL through the attribute
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_replication') THEN
        GRANT rds_replication TO :"cdc_user";
    ELSE
        ALTER ROLE :"cdc_user" REPLICATION;
    END IF;
END
$$;

GRANT CONNECT ON DATABASE :"database" TO :"cdc_user";
CREATE SCHEMA IF NOT EXISTS :"schema" AUTHORIZATION :"schema_owner";
GRANT USAGE ON SCHEMA :"schema" TO :"cdc_user";
-- The initial snapshot reads every table, including ones the application creates later.
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"cdc_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"schema_owner" IN SCHEMA :"schema" GRANT SELECT ON TABLES TO :"cdc_user";

-- Heartbeat target: Debezium's heartbeat.action.query writes here, so the slot advances even when nothing captured
-- changes while other databases fill the WAL.
CREATE TABLE IF NOT EXISTS cdc.heartbeat (id int PRIMARY KEY, ts timestamptz NOT NULL);
GRANT USAGE ON SCHEMA cdc TO :"cdc_user";
GRANT SELECT, INSERT, UPDATE ON cdc.heartbeat TO :"cdc_user";

-- Publish every table of the captured schema, present and future, plus the heartbeat table. Created here, so that
-- Debezium needs no ownership of the tables (publication.autocreate.mode=disabled in the connector).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = :'publication') THEN
        CREATE PUBLICATION :"publication" FOR TABLES IN SCHEMA :"schema", TABLE cdc.heartbeat;
    END IF;
END
$$;
