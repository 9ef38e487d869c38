-- The producer's tables. Run by `python -m producer create-schema` with search_path set to the
-- captured schema (PG_SCHEMA), so nothing here names it. Idempotent: safe on every `make local-up`.
-- The columns cover the types the pipeline must carry exactly: bigint keys, text, boolean,
-- numeric(12,2), timestamptz, date and jsonb.

CREATE TABLE IF NOT EXISTS customers (
    id           bigserial PRIMARY KEY,
    email        text NOT NULL UNIQUE,
    full_name    text NOT NULL,
    is_active    boolean NOT NULL,
    profile      jsonb NOT NULL,
    credit_limit numeric(12,2) NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- No ON DELETE CASCADE: the producer deletes only customers without orders, so every row change
-- is one it issued and journaled; a cascade would change rows behind the journal's back.
CREATE TABLE IF NOT EXISTS orders (
    id            bigserial PRIMARY KEY,
    customer_id   bigint NOT NULL REFERENCES customers (id),
    amount        numeric(12,2) NOT NULL,
    currency      text NOT NULL,
    status        text NOT NULL,
    is_gift       boolean NOT NULL,
    details       jsonb NOT NULL,
    ordered_at    timestamptz NOT NULL,
    delivery_date date NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The index and the replica identity are made only where missing: CREATE INDEX IF NOT EXISTS and
-- ALTER TABLE lock the table even when nothing changes, and on a second `make local-up` while the
-- producer writes, those locks deadlock with its transactions (which touch both tables).
DO $$
BEGIN
    -- Deleting a customer checks the foreign key by customer_id; without an index that is a scan of orders.
    IF to_regclass('orders_customer_id_idx') IS NULL THEN
        CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    END IF;
    -- With the default identity (the primary key) pgoutput puts only the key in the old tuple, so
    -- Debezium's `before` on update and delete would hold just `id`. FULL logs the whole old row,
    -- which downstream consumers (and the tests) compare against the previous state.
    IF (SELECT relreplident FROM pg_class WHERE oid = 'customers'::regclass) <> 'f' THEN
        ALTER TABLE customers REPLICA IDENTITY FULL;
    END IF;
    IF (SELECT relreplident FROM pg_class WHERE oid = 'orders'::regclass) <> 'f' THEN
        ALTER TABLE orders REPLICA IDENTITY FULL;
    END IF;
END
$$;
