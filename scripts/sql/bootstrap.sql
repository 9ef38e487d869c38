-- Roles, database objects and the publication the pipeline needs. Idempotent: run by
-- scripts/bootstrap-db.sh as a superuser on every `make local-up`.
-- psql variables: db, schema, app_user, app_password, cdc_user, cdc_password, publication.

-- The application role owns the captured schema; the producer writes as it.
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
-- Debezium's role: it may stream the WAL and read the captured tables, nothing else.
SELECT format('CREATE ROLE %I LOGIN REPLICATION PASSWORD %L', :'cdc_user', :'cdc_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'cdc_user') \gexec
-- Keep the passwords in step with the settings when they change.
SELECT format('ALTER ROLE %I PASSWORD %L', :'app_user', :'app_password') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'cdc_user', :'cdc_password') \gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
\connect :"db"

SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'db', :'cdc_user') \gexec
SELECT format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', :'schema', :'app_user') \gexec
SELECT format('GRANT USAGE ON SCHEMA %I TO %I', :'schema', :'cdc_user') \gexec
-- The initial snapshot reads every table, including ones the application creates later.
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', :'schema', :'cdc_user') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON TABLES TO %I',
              :'app_user', :'schema', :'cdc_user') \gexec

-- Heartbeat target: Debezium's heartbeat.action.query writes here, so the slot advances even when
-- nothing captured changes while other databases fill the WAL.
CREATE SCHEMA IF NOT EXISTS cdc;
CREATE TABLE IF NOT EXISTS cdc.heartbeat (id int PRIMARY KEY, ts timestamptz NOT NULL);
SELECT format('GRANT USAGE ON SCHEMA cdc TO %I', :'cdc_user') \gexec
SELECT format('GRANT SELECT, INSERT, UPDATE ON cdc.heartbeat TO %I', :'cdc_user') \gexec

-- Publish every table of the captured schema, present and future, plus the heartbeat table.
-- Created here by a superuser so that Debezium needs no ownership of the tables
-- (publication.autocreate.mode=disabled in the connector).
SELECT format('CREATE PUBLICATION %I FOR TABLES IN SCHEMA %I, TABLE cdc.heartbeat', :'publication', :'schema')
WHERE NOT EXISTS (SELECT FROM pg_publication WHERE pubname = :'publication') \gexec

-- DDL capture and the signalling table Debezium's incremental snapshots (make resync) use.
\ir ddl_capture.sql
