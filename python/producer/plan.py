"""Deciding what the next transaction does: pure, from a seeded random.Random and the live rows."""

import math
import random
from dataclasses import dataclass

from producer.state import LiveRows

OPERATIONS = ("insert", "update", "delete")
CUSTOMERS, ORDERS = "customers", "orders"
# Which table an operation goes to: orders change more often than customers, as in a shop.
TABLE_WEIGHTS = {
    "insert": {CUSTOMERS: 0.3, ORDERS: 0.7},
    "update": {CUSTOMERS: 0.4, ORDERS: 0.6},
    "delete": {CUSTOMERS: 0.3, ORDERS: 0.7},
}
# Below this many live rows a table gets inserts instead of updates and deletes, so it never drains.
FEW_ROWS = 10
DEFAULT_MIX = {"insert": 0.5, "update": 0.35, "delete": 0.15}


@dataclass(frozen=True)
class Op:
    kind: str                      # insert, update or delete
    table: str                     # customers or orders
    id: int | None = None          # the row updated or deleted; None for an insert
    customer_id: int | None = None  # the customer an inserted order belongs to


def parse_mix(text: str) -> dict[str, float]:
    """`insert=0.5,update=0.35,delete=0.15` -> weights; unnamed operations get 0. Raises ValueError."""
    mix = dict.fromkeys(OPERATIONS, 0.0)
    seen: set[str] = set()
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"'{part.strip()}' is not operation=weight (e.g. insert=0.5,update=0.35,delete=0.15)")
        if name not in OPERATIONS:
            raise ValueError(f"unknown operation '{name}' (use {', '.join(OPERATIONS)})")
        if name in seen:
            raise ValueError(f"operation '{name}' given twice")
        seen.add(name)
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"weight of {name} must be a number, got '{value.strip()}'") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weight of {name} must be a non-negative number, got '{value.strip()}'")
        mix[name] = weight
    if sum(mix.values()) <= 0:
        raise ValueError("the weights must not all be 0")
    return mix


def transaction_size(rng: random.Random, max_size: int, remaining: int | None = None) -> int:
    """How many changes the next transaction holds: 1..max_size, never more than `remaining`."""
    size = rng.randint(1, max_size)
    return size if remaining is None else min(size, remaining)


def plan_transaction(rng: random.Random, mix: dict[str, float], live: LiveRows, size: int) -> list[Op]:
    """`size` operations drawn from `mix` that the live rows allow, each row touched at most once.

    Updates and deletes pick live rows; where none is available (few rows, or all already touched in
    this transaction) the operation becomes an insert. A customer is deleted only if it has no orders,
    including orders planned in this transaction, so the foreign key holds without cascades.
    """
    kinds = list(mix)
    weights = [mix[k] for k in kinds]
    touched: dict[str, set[int]] = {CUSTOMERS: set(), ORDERS: set()}
    ordered_customers: set[int] = set()  # customers receiving an order in this transaction
    deleted_customers: set[int] = set()
    ops: list[Op] = []
    for _ in range(size):
        kind = rng.choices(kinds, weights)[0]
        table_weights = TABLE_WEIGHTS[kind]
        table = rng.choices(list(table_weights), list(table_weights.values()))[0]
        op = _resolve(rng, kind, table, live, touched, ordered_customers, deleted_customers)
        if op.id is not None:
            touched[op.table].add(op.id)
        if op.kind == "delete" and op.table == CUSTOMERS:
            deleted_customers.add(op.id)
        if op.customer_id is not None:
            ordered_customers.add(op.customer_id)
        ops.append(op)
    return ops


def _resolve(rng: random.Random, kind: str, table: str, live: LiveRows, touched: dict[str, set[int]],
             ordered_customers: set[int], deleted_customers: set[int]) -> Op:
    pools = {CUSTOMERS: live.customers, ORDERS: live.orders}
    if kind == "delete" and table == CUSTOMERS and len(live.customers) >= FEW_ROWS:
        customer = live.without_orders.choice(rng, touched[CUSTOMERS] | ordered_customers)
        if customer is not None:
            return Op("delete", CUSTOMERS, id=customer)
        # Every customer has orders: delete an order instead, so deletes keep their share of the mix.
        table = ORDERS
    if kind in ("update", "delete") and len(pools[table]) >= FEW_ROWS:
        row = pools[table].choice(rng, touched[table])
        if row is not None:
            return Op(kind, table, id=row)
    return _insert(rng, table, live, deleted_customers)


def _insert(rng: random.Random, table: str, live: LiveRows, deleted_customers: set[int]) -> Op:
    if table == ORDERS:
        # An order needs a customer that stays: any live one not deleted in this transaction.
        customer = live.customers.choice(rng, deleted_customers)
        if customer is not None:
            return Op("insert", ORDERS, customer_id=customer)
    return Op("insert", CUSTOMERS)
