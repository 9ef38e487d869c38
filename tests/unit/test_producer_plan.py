"""Planning transactions: the mix, live rows only, and a foreign key that holds without cascades."""

import random
from collections import Counter

from producer.journal import Change
from producer.plan import CUSTOMERS, DEFAULT_MIX, FEW_ROWS, ORDERS, Op, plan_transaction, transaction_size
from producer.state import LiveRows


def shop(customers: int, orders: int, orderless: int = 0) -> LiveRows:
    """`customers` customers, the first `orderless` of them without orders, and `orders` orders."""
    owners = list(range(orderless + 1, customers + 1))
    return LiveRows.of(range(1, customers + 1), [(1000 + i, owners[i % len(owners)]) for i in range(orders)])


class FakeDatabase:
    """Tables as dicts, executing planned operations in the writer's order and enforcing the foreign key."""

    def __init__(self):
        self.customers: set[int] = set()
        self.orders: dict[int, int] = {}
        self.next_id = 1

    def execute(self, ops: list[Op]) -> list[Change]:
        changes = []
        for _ in [o for o in ops if o.kind == "insert" and o.table == CUSTOMERS]:
            self.customers.add(self.next_id)
            changes.append(Change(CUSTOMERS, "c", {"id": self.next_id}, {"id": self.next_id}))
            self.next_id += 1
        for op in [o for o in ops if o.kind == "insert" and o.table == ORDERS]:
            assert op.customer_id in self.customers, f"order for missing customer {op.customer_id}"
            self.orders[self.next_id] = op.customer_id
            row = {"id": self.next_id, "customer_id": op.customer_id}
            changes.append(Change(ORDERS, "c", {"id": self.next_id}, row))
            self.next_id += 1
        for op in [o for o in ops if o.kind == "update"]:
            assert op.id in (self.customers if op.table == CUSTOMERS else self.orders)
            changes.append(Change(op.table, "u", {"id": op.id}, {"id": op.id}))
        for op in [o for o in ops if o.kind == "delete" and o.table == ORDERS]:
            del self.orders[op.id]
            changes.append(Change(ORDERS, "d", {"id": op.id}, None))
        for op in [o for o in ops if o.kind == "delete" and o.table == CUSTOMERS]:
            assert op.id not in self.orders.values(), f"customer {op.id} deleted while it has orders"
            self.customers.remove(op.id)
            changes.append(Change(CUSTOMERS, "d", {"id": op.id}, None))
        return changes


def run_plans(seed: int, transactions: int, mix=DEFAULT_MIX) -> tuple[FakeDatabase, LiveRows, list[list[Op]]]:
    rng, db, live, plans = random.Random(seed), FakeDatabase(), LiveRows(), []
    for _ in range(transactions):
        ops = plan_transaction(rng, mix, live, transaction_size(rng, 10))
        live.apply(db.execute(ops))
        plans.append(ops)
    return db, live, plans


def test_operations_follow_the_mix_within_two_percent():
    rng, live = random.Random(3), shop(customers=2000, orders=4000, orderless=500)
    kinds = Counter(op.kind for _ in range(4000) for op in plan_transaction(rng, DEFAULT_MIX, live, 5))
    total = sum(kinds.values())
    for kind, weight in DEFAULT_MIX.items():
        assert abs(kinds[kind] / total - weight) < 0.02, (kind, kinds)


def test_operation_with_zero_weight_is_never_planned():
    rng, live = random.Random(3), shop(customers=100, orders=100, orderless=20)
    mix = {"insert": 1.0, "update": 1.0, "delete": 0.0}
    assert all(op.kind != "delete" for _ in range(500) for op in plan_transaction(rng, mix, live, 10))


def test_updates_and_deletes_pick_only_live_rows():
    rng, live = random.Random(5), shop(customers=30, orders=40, orderless=10)
    for _ in range(2000):
        for op in plan_transaction(rng, DEFAULT_MIX, live, 10):
            if op.kind != "insert":
                assert op.id in (live.customers if op.table == CUSTOMERS else live.orders)


def test_a_row_is_touched_at_most_once_per_transaction():
    rng, live = random.Random(6), shop(customers=12, orders=12, orderless=4)
    for _ in range(2000):
        touched = [(op.table, op.id) for op in plan_transaction(rng, DEFAULT_MIX, live, 10) if op.id is not None]
        assert len(touched) == len(set(touched))


def test_only_customers_without_orders_are_deleted():
    rng, live = random.Random(7), shop(customers=50, orders=80, orderless=5)
    deleted = {op.id for _ in range(1000) for op in plan_transaction(rng, DEFAULT_MIX, live, 10)
               if op.kind == "delete" and op.table == CUSTOMERS}
    assert deleted and deleted <= set(range(1, 6))


def test_customer_getting_an_order_is_not_deleted_in_the_same_transaction():
    rng, live = random.Random(8), shop(customers=20, orders=0, orderless=20)
    for _ in range(2000):
        ops = plan_transaction(rng, DEFAULT_MIX, live, 10)
        ordered = {op.customer_id for op in ops if op.customer_id is not None}
        assert not ordered & {op.id for op in ops if op.kind == "delete" and op.table == CUSTOMERS}


def test_foreign_key_holds_over_a_long_run():
    db, live, _ = run_plans(seed=9, transactions=3000)  # FakeDatabase asserts the key on every change
    assert set(db.orders.values()) <= db.customers
    assert set(live.customers) == db.customers and set(live.orders) == set(db.orders)


def test_long_run_issues_every_operation_on_both_tables():
    _, _, plans = run_plans(seed=10, transactions=3000)
    assert {(op.kind, op.table) for ops in plans for op in ops} == {
        (kind, table) for kind in ("insert", "update", "delete") for table in (CUSTOMERS, ORDERS)}


def test_empty_tables_get_customers_first():
    ops = plan_transaction(random.Random(1), DEFAULT_MIX, LiveRows(), 10)
    assert ops == [Op("insert", CUSTOMERS)] * 10


def test_few_rows_turn_updates_and_deletes_into_inserts():
    live = shop(customers=FEW_ROWS - 1, orders=FEW_ROWS - 1)
    ops = plan_transaction(random.Random(2), {"insert": 0, "update": 1, "delete": 1}, live, 50)
    assert {op.kind for op in ops} == {"insert"}


def test_same_seed_plans_the_same_transactions():
    assert run_plans(seed=11, transactions=300)[2] == run_plans(seed=11, transactions=300)[2]
    assert run_plans(seed=11, transactions=300)[2] != run_plans(seed=12, transactions=300)[2]


def test_transaction_size_stays_within_bounds_and_the_remaining_count():
    rng = random.Random(4)
    sizes = {transaction_size(rng, 10) for _ in range(1000)}
    assert sizes == set(range(1, 11))
    assert all(transaction_size(rng, 10, remaining=3) <= 3 for _ in range(100))
