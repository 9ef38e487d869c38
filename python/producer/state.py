"""The rows the producer knows to be live, kept in memory so planning needs no queries."""

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from producer.journal import Change


class IdPool:
    """A set of ids with O(1) add, remove and uniform random choice, in a reproducible order."""

    def __init__(self, ids: Iterable[int] = ()):
        self._ids: list[int] = []
        self._index: dict[int, int] = {}
        for i in ids:
            self.add(i)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, i: object) -> bool:
        return i in self._index

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def add(self, i: int) -> None:
        if i not in self._index:
            self._index[i] = len(self._ids)
            self._ids.append(i)

    def remove(self, i: int) -> None:
        # Swap with the last id so removal is O(1); the order stays a function of the operations.
        position = self._index.pop(i)
        last = self._ids.pop()
        if last != i:
            self._ids[position] = last
            self._index[last] = position

    def discard(self, i: int) -> None:
        if i in self._index:
            self.remove(i)

    def choice(self, rng: random.Random, excluded: set[int] | frozenset[int] = frozenset(),
               attempts: int = 16) -> int | None:
        """A random id not in `excluded`, or None when a few draws find none (the pool is (nearly) used up)."""
        if len(self._ids) <= len(excluded) and all(i in excluded for i in self._ids):
            return None
        for _ in range(attempts):
            candidate = self._ids[rng.randrange(len(self._ids))]
            if candidate not in excluded:
                return candidate
        return None


@dataclass
class LiveRows:
    """Live customers and orders, and which customers have orders (only those without may be deleted)."""

    customers: IdPool = field(default_factory=IdPool)
    orders: IdPool = field(default_factory=IdPool)
    order_owner: dict[int, int] = field(default_factory=dict)
    orders_of: dict[int, int] = field(default_factory=dict)  # customer id -> number of live orders
    without_orders: IdPool = field(default_factory=IdPool)

    @classmethod
    def of(cls, customers: Iterable[int], orders: Iterable[tuple[int, int]]) -> "LiveRows":
        """From the customers' ids and the orders' (id, customer_id) pairs."""
        live = cls()
        for customer in customers:
            live.add_customer(customer)
        for order, customer in orders:
            live.add_order(order, customer)
        return live

    def add_customer(self, customer: int) -> None:
        self.customers.add(customer)
        self.orders_of.setdefault(customer, 0)
        if self.orders_of[customer] == 0:
            self.without_orders.add(customer)

    def add_order(self, order: int, customer: int) -> None:
        self.orders.add(order)
        self.order_owner[order] = customer
        self.orders_of[customer] = self.orders_of.get(customer, 0) + 1
        self.without_orders.discard(customer)

    def remove_order(self, order: int) -> None:
        self.orders.remove(order)
        customer = self.order_owner.pop(order)
        self.orders_of[customer] -= 1
        if self.orders_of[customer] == 0 and customer in self.customers:
            self.without_orders.add(customer)

    def remove_customer(self, customer: int) -> None:
        if self.orders_of.get(customer):
            raise ValueError(f"customer {customer} still has {self.orders_of[customer]} live orders")
        self.customers.remove(customer)
        self.without_orders.discard(customer)
        self.orders_of.pop(customer, None)

    def apply(self, changes: list[Change]) -> None:
        """Record committed changes, in their execution order."""
        for change in changes:
            row_id = change.key["id"]
            if change.op == "c" and change.table == "customers":
                self.add_customer(row_id)
            elif change.op == "c":
                self.add_order(row_id, change.row["customer_id"])
            elif change.op == "d" and change.table == "customers":
                self.remove_customer(row_id)
            elif change.op == "d":
                self.remove_order(row_id)
