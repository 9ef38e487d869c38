-- What logical decoding does not carry: DDL. Run after bootstrap.sql, by the same client and role; idempotent.
--
-- An event trigger writes one row into cdc.ddl_events for every CREATE, ALTER and DROP of a table in a schema a
-- publication captures whole, in the DDL's own transaction: Debezium streams it in commit order with the data, and
-- the Glue job drops, re-keys and re-types mirrors from it (python/glue/control.py). When a change leaves rows the
-- stream will never resend (a renamed or re-typed column, a column added with a default, a new key), the trigger
-- also asks Debezium for an incremental snapshot of the table through the signalling table, so the mirror
-- re-converges without anyone stopping anything.

CREATE TABLE IF NOT EXISTS cdc.ddl_events (
    id          bigserial PRIMARY KEY,
    command     text NOT NULL,      -- CREATE TABLE, ALTER TABLE, DROP TABLE; BASELINE: a table older than the trigger
    table_oid   oid NOT NULL,
    schema_name text NOT NULL,
    table_name  text NOT NULL,
    columns     jsonb,              -- [{attnum, name, type, default}] after the command; NULL after a drop
    key_columns jsonb,              -- the primary key's columns in key order; NULL after a drop
    resync      boolean NOT NULL,   -- an incremental snapshot of the table was requested with this command
    statement   text,
    at          timestamptz NOT NULL DEFAULT now()
);

-- Debezium's signalling table (signal.data.collection): `execute-snapshot` rows start incremental snapshots, and
-- Debezium writes its snapshot window marks here, so its role may insert.
CREATE TABLE IF NOT EXISTS cdc.debezium_signal (
    id   varchar(64) PRIMARY KEY,
    type varchar(32) NOT NULL,
    data varchar(2048)
);
GRANT SELECT ON cdc.ddl_events TO :"cdc_user";
GRANT SELECT, INSERT, UPDATE, DELETE ON cdc.debezium_signal TO :"cdc_user";

-- Ask Debezium for an incremental snapshot of one table (`make resync` calls it too).
CREATE OR REPLACE FUNCTION cdc.request_resync(schema_name text, table_name text) RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO cdc.debezium_signal (id, type, data)
    VALUES ('resync-' || gen_random_uuid(), 'execute-snapshot',
            json_build_object('type', 'incremental',
                              -- Debezium reads each name as a regular expression
                              'data-collections', json_build_array(
                                  regexp_replace(schema_name || '.' || table_name, '([.^$*+?()\[\]{}|\\])', '\\\1', 'g')
                              ))::text)
    RETURNING id
$$;

REVOKE EXECUTE ON FUNCTION cdc.request_resync(text, text) FROM PUBLIC;
GRANT USAGE ON SCHEMA cdc TO :"schema_owner";
GRANT EXECUTE ON FUNCTION cdc.request_resync(text, text) TO :"schema_owner";

-- A table's columns and key as the event trigger records them.
CREATE OR REPLACE FUNCTION cdc.table_columns(rel oid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'attnum', a.attnum, 'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
               'default', pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum), '[]'::jsonb)
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$$;

CREATE OR REPLACE FUNCTION cdc.table_key(rel oid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_agg(a.attname ORDER BY k.ord), '[]'::jsonb)
    FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = rel AND i.indisprimary
$$;

-- Whether a change from `before` to `after` (cdc.table_columns, cdc.table_key) leaves rows that the stream will not
-- correct: a column renamed or re-typed, a column added with a default (existing rows take it without an event),
-- a different key. A dropped column or one added without a default needs nothing: the job drops it, NULL is right.
CREATE OR REPLACE FUNCTION cdc.needs_resync(before_cols jsonb, before_key jsonb, after_cols jsonb, after_key jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT before_key IS DISTINCT FROM after_key
        OR EXISTS (SELECT FROM jsonb_array_elements(after_cols) n
                   LEFT JOIN jsonb_array_elements(before_cols) o ON o->'attnum' = n->'attnum'
                   WHERE (o IS NULL AND n->>'default' IS NOT NULL)
                      OR (o IS NOT NULL AND (o->>'name' <> n->>'name' OR o->>'type' <> n->>'type')))
$$;

CREATE OR REPLACE FUNCTION cdc.capture_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cmd record;
    prev record;
    cols jsonb;
    pk jsonb;
    resync boolean;
BEGIN
    FOR cmd IN
        SELECT DISTINCT c.oid, c.relname, n.nspname, t.command_tag
        FROM pg_event_trigger_ddl_commands() t
        JOIN pg_class c ON c.oid = t.objid AND t.classid = 'pg_class'::regclass
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          -- tables of a schema that a publication captures whole (FOR TABLES IN SCHEMA)
          AND EXISTS (SELECT FROM pg_publication_namespace pn WHERE pn.pnnspid = c.relnamespace)
    LOOP
        cols := cdc.table_columns(cmd.oid);
        pk := cdc.table_key(cmd.oid);
        SELECT e.columns, e.key_columns, e.schema_name, e.table_name INTO prev
        FROM cdc.ddl_events e WHERE e.table_oid = cmd.oid AND e.command <> 'DROP TABLE' ORDER BY e.id DESC LIMIT 1;
        IF prev IS NOT NULL AND prev.schema_name = cmd.nspname AND prev.table_name = cmd.relname
           AND prev.columns = cols AND prev.key_columns = pk THEN
            CONTINUE;  -- nothing the mirror sees changed (a constraint, an index, the replica identity)
        ELSIF cmd.command_tag = 'CREATE TABLE' THEN
            resync := false;
        ELSIF prev IS NULL OR prev.schema_name <> cmd.nspname OR prev.table_name <> cmd.relname THEN
            -- a table created before this trigger, or renamed: its rows are not all in the stream under this name
            resync := true;
        ELSE
            resync := cdc.needs_resync(prev.columns, prev.key_columns, cols, pk);
        END IF;
        IF prev IS NOT NULL AND (prev.schema_name <> cmd.nspname OR prev.table_name <> cmd.relname) THEN
            -- a rename: the old name's mirror goes, as if its table were dropped
            INSERT INTO cdc.ddl_events (command, table_oid, schema_name, table_name, columns, key_columns, resync, statement)
            VALUES ('DROP TABLE', cmd.oid, prev.schema_name, prev.table_name, NULL, NULL, false, current_query());
        END IF;
        INSERT INTO cdc.ddl_events (command, table_oid, schema_name, table_name, columns, key_columns, resync, statement)
        VALUES (cmd.command_tag, cmd.oid, cmd.nspname, cmd.relname, cols, pk, resync AND pk <> '[]'::jsonb,
                current_query());
        -- an incremental snapshot needs a primary key; a table without one is not mirrored anyway
        IF resync AND pk <> '[]'::jsonb THEN
            PERFORM cdc.request_resync(cmd.nspname, cmd.relname);
        END IF;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION cdc.capture_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO cdc.ddl_events (command, table_oid, schema_name, table_name, columns, key_columns, resync, statement)
    SELECT 'DROP TABLE', o.objid, o.schema_name, o.object_name, NULL, NULL, false, current_query()
    FROM pg_event_trigger_dropped_objects() o
    JOIN pg_namespace n ON n.nspname = o.schema_name
    WHERE o.object_type = 'table' AND NOT o.is_temporary
      AND EXISTS (SELECT FROM pg_publication_namespace pn WHERE pn.pnnspid = n.oid);
END
$$;

-- Tables that exist before the trigger: their shape now, so their first ALTER is compared with something.
INSERT INTO cdc.ddl_events (command, table_oid, schema_name, table_name, columns, key_columns, resync, statement)
SELECT 'BASELINE', c.oid, n.nspname, c.relname, cdc.table_columns(c.oid), cdc.table_key(c.oid), false, NULL
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND EXISTS (SELECT FROM pg_publication_namespace pn WHERE pn.pnnspid = c.relnamespace)
  AND NOT EXISTS (SELECT FROM cdc.ddl_events e WHERE e.table_oid = c.oid);

DROP EVENT TRIGGER IF EXISTS cdc_capture_ddl;
CREATE EVENT TRIGGER cdc_capture_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION cdc.capture_ddl();
DROP EVENT TRIGGER IF EXISTS cdc_capture_drop;
CREATE EVENT TRIGGER cdc_capture_drop ON sql_drop WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA')
    EXECUTE FUNCTION cdc.capture_drop();

-- Both tables travel with the captured schema's changes (the job reads cdc.ddl_events' topic; Debezium sees its
-- own snapshot window marks in the stream).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication_tables WHERE pubname = :'publication'
                   AND schemaname = 'cdc' AND tablename = 'ddl_events') THEN
        ALTER PUBLICATION :"publication" ADD TABLE cdc.ddl_events;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_publication_tables WHERE pubname = :'publication'
                   AND schemaname = 'cdc' AND tablename = 'debezium_signal') THEN
        ALTER PUBLICATION :"publication" ADD TABLE cdc.debezium_signal;
    END IF;
END
$$;
