"""The SQL of a planned transaction, batched: one statement per table and operation, never one per row."""

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import Json, execute_values

from producer.journal import Change
from producer.plan import CUSTOMERS, ORDERS, Op
from producer.state import LiveRows

OP_CODES = {"insert": "c", "update": "u", "delete": "d"}


@dataclass(frozen=True)
class Outcome:
    txid: int
    changes: list[Change]  # in execution order
    missed: int            # planned changes another writer made impossible (row gone, or customer got orders)


class Writer:
    """Runs planned operations inside the caller's open transaction; the caller commits."""

    def __init__(self, schema: str):
        customers = sql.Identifier(schema, CUSTOMERS)
        orders = sql.Identifier(schema, ORDERS)
        self.insert = {
            # The email gets the row's id so it stays unique across runs with the same seed; the id is
            # drawn in a materialized CTE so nextval runs once per row, in the order of the VALUES.
            CUSTOMERS: sql.SQL(
                "WITH n AS MATERIALIZED ("
                " SELECT nextval(pg_get_serial_sequence(format('%%I.%%I', {schema}, 'customers'), 'id')) AS id, v.*"
                " FROM (VALUES %s) AS v (email_user, email_domain, full_name, is_active, profile, credit_limit))"
                " INSERT INTO {table} (id, email, full_name, is_active, profile, credit_limit)"
                " SELECT id, email_user || '.' || id || '@' || email_domain, full_name, is_active, profile,"
                " credit_limit FROM n ORDER BY id RETURNING *"
            ).format(table=customers, schema=sql.Literal(schema)),
            # Only for customers still there: another producer on the same tables may have deleted one
            # (that order is then skipped and counted as missed, rather than failing the transaction).
            ORDERS: sql.SQL(
                "INSERT INTO {table} (customer_id, amount, currency, status, is_gift, details, ordered_at,"
                " delivery_date) SELECT v.* FROM (VALUES %s) AS v (customer_id, amount, currency, status,"
                " is_gift, details, ordered_at, delivery_date)"
                " WHERE EXISTS (SELECT FROM {customers} AS c WHERE c.id = v.customer_id) RETURNING *"
            ).format(table=orders, customers=customers),
        }
        self.insert_template = {
            CUSTOMERS: "(%(email_user)s, %(email_domain)s, %(full_name)s, %(is_active)s, %(profile)s::jsonb,"
                       " %(credit_limit)s::numeric)",
            ORDERS: "(%(customer_id)s::bigint, %(amount)s::numeric, %(currency)s::text, %(status)s::text,"
                    " %(is_gift)s::boolean, %(details)s::jsonb, %(ordered_at)s::timestamptz, %(delivery_date)s::date)",
        }
        # NULL in a column of the VALUES keeps the stored value; JSON patches merge into the stored document.
        self.update = {
            CUSTOMERS: sql.SQL(
                "UPDATE {table} AS t SET full_name = coalesce(v.full_name, t.full_name),"
                " is_active = coalesce(v.is_active, t.is_active),"
                " credit_limit = coalesce(v.credit_limit, t.credit_limit),"
                " profile = t.profile || v.profile_patch, updated_at = now()"
                " FROM (VALUES %s) AS v (id, full_name, is_active, credit_limit, profile_patch)"
                " WHERE t.id = v.id RETURNING t.*"
            ).format(table=customers),
            ORDERS: sql.SQL(
                "UPDATE {table} AS t SET status = coalesce(v.status, t.status),"
                " amount = coalesce(v.amount, t.amount), is_gift = coalesce(v.is_gift, t.is_gift),"
                " details = t.details || v.details_patch, updated_at = now()"
                " FROM (VALUES %s) AS v (id, status, amount, is_gift, details_patch)"
                " WHERE t.id = v.id RETURNING t.*"
            ).format(table=orders),
        }
        # Casts, because a column of NULLs in VALUES would otherwise be typed text.
        self.update_template = {
            CUSTOMERS: "(%(id)s::bigint, %(full_name)s::text, %(is_active)s::boolean, %(credit_limit)s::numeric,"
                       " %(profile_patch)s::jsonb)",
            ORDERS: "(%(id)s::bigint, %(status)s::text, %(amount)s::numeric, %(is_gift)s::boolean,"
                    " %(details_patch)s::jsonb)",
        }
        self.delete = {
            # A customer that meanwhile got an order from another producer stays (counted as missed).
            CUSTOMERS: sql.SQL("DELETE FROM {table} AS t WHERE t.id = ANY(%s)"
                               " AND NOT EXISTS (SELECT FROM {orders} AS o WHERE o.customer_id = t.id)"
                               " RETURNING t.id").format(table=customers, orders=orders),
            ORDERS: sql.SQL("DELETE FROM {} WHERE id = ANY(%s) RETURNING id").format(orders),
        }
        self.xmin = {table: sql.SQL("SELECT xmin::text FROM {} WHERE id = %s").format(sql.Identifier(schema, table))
                     for table in (CUSTOMERS, ORDERS)}
        self.live_customers = sql.SQL("SELECT id FROM {} ORDER BY id").format(customers)
        self.live_orders = sql.SQL("SELECT id, customer_id FROM {} ORDER BY id").format(orders)

    def write(self, cur: Cursor, planned: list[tuple[Op, dict[str, Any] | None]]) -> Outcome:
        """Inserts, then updates, then deletes (orders before their customers); returns what changed."""
        cur.execute("SELECT txid_current()")
        txid = cur.fetchone()[0]
        changes: list[Change] = []
        missed = 0
        for table in (CUSTOMERS, ORDERS):
            rows = [jsonb_params(values) for op, values in planned if op.kind == "insert" and op.table == table]
            if rows:
                inserted = self._values(cur, self.insert[table], self.insert_template[table], rows)
                changes.extend(Change(table, "c", {"id": row["id"]}, row) for row in inserted)
                missed += len(rows) - len(inserted)
        for table in (CUSTOMERS, ORDERS):
            # In id order, so concurrent producers lock rows in the same order and seldom deadlock.
            rows = [jsonb_params({"id": op.id, **values}) for op, values in
                    sorted(planned, key=lambda p: p[0].id or 0) if op.kind == "update" and op.table == table]
            if rows:
                updated = self._values(cur, self.update[table], self.update_template[table], rows)
                changes.extend(Change(table, "u", {"id": row["id"]}, row) for row in updated)
                missed += len(rows) - len(updated)
        for table in (ORDERS, CUSTOMERS):
            ids = sorted(op.id for op, _ in planned if op.kind == "delete" and op.table == table)
            if ids:
                cur.execute(self.delete[table], (ids,))
                deleted = [row[0] for row in cur.fetchall()]
                changes.extend(Change(table, "d", {"id": i}, None) for i in deleted)
                missed += len(ids) - len(deleted)
        return Outcome(txid, changes, missed)

    def shows(self, cur: Cursor, outcome: Outcome) -> bool | None:
        """Whether the tables hold what the outcome's transaction did: a row it wrote still carries its id as
        xmin, or a row it deleted is gone. None when it changed nothing. Asked only while nothing else ran
        since, so a later change to the same row by another writer is not expected."""
        written = next((change for change in outcome.changes if change.op != "d"), None)
        change = written or next(iter(outcome.changes), None)
        if change is None:
            return None
        cur.execute(self.xmin[change.table], (change.key["id"],))
        row = cur.fetchone()
        if written is None:
            return row is None
        # xmin is the 32-bit transaction id; txid_current() adds the epoch above it.
        return row is not None and int(row[0]) == outcome.txid % 2**32

    def load_live(self, cur: Cursor) -> LiveRows:
        """The rows now in the tables, so a run continues on what earlier runs (or others) left."""
        cur.execute(self.live_customers)
        customers = [row[0] for row in cur.fetchall()]
        cur.execute(self.live_orders)
        return LiveRows.of(customers, cur.fetchall())

    @staticmethod
    def _values(cur: Cursor, statement: sql.Composable, template: str, rows: list[dict]) -> list[dict[str, Any]]:
        # page_size covers all rows: one statement whatever --max-txn-size is.
        result = execute_values(cur, statement, rows, template=template, page_size=len(rows), fetch=True)
        names = [column.name for column in cur.description]
        return [dict(zip(names, row, strict=True)) for row in result]


def jsonb_params(values: dict[str, Any]) -> dict[str, Any]:
    """Dicts and lists wrapped for psycopg2, which would otherwise send them as hstore or arrays."""
    return {k: Json(v) if isinstance(v, dict | list) else v for k, v in values.items()}
