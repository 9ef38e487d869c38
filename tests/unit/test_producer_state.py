"""The in-memory set of live rows the producer plans on."""

import random

import pytest

from producer.journal import Change
from producer.state import IdPool, LiveRows


def test_pool_removal_keeps_the_other_ids():
    pool = IdPool([1, 2, 3, 4])
    pool.remove(2)
    assert sorted(pool) == [1, 3, 4] and 2 not in pool and len(pool) == 3


def test_pool_choice_never_returns_an_excluded_id():
    pool = IdPool(range(10))
    rng = random.Random(1)
    assert all(pool.choice(rng, {0, 1, 2, 3, 4}) not in {0, 1, 2, 3, 4} for _ in range(200))


def test_pool_choice_is_none_when_every_id_is_excluded():
    assert IdPool([1, 2]).choice(random.Random(1), {1, 2}) is None
    assert IdPool().choice(random.Random(1)) is None


def test_customer_with_an_order_is_not_deletable_until_the_order_is_gone():
    live = LiveRows.of([1, 2], [(10, 1)])
    assert list(live.without_orders) == [2]
    live.remove_order(10)
    assert sorted(live.without_orders) == [1, 2]


def test_removing_a_customer_with_orders_is_refused():
    live = LiveRows.of([1], [(10, 1)])
    with pytest.raises(ValueError, match="still has 1 live orders"):
        live.remove_customer(1)


def test_apply_records_inserts_and_deletes_of_both_tables():
    live = LiveRows.of([1], [])
    live.apply([
        Change("customers", "c", {"id": 2}, {"id": 2}),
        Change("orders", "c", {"id": 7}, {"id": 7, "customer_id": 2}),
        Change("orders", "u", {"id": 7}, {"id": 7, "customer_id": 2}),
        Change("customers", "d", {"id": 1}, None),
    ])
    assert list(live.customers) == [2] and list(live.orders) == [7] and live.order_owner == {7: 2}
    assert len(live.without_orders) == 0
