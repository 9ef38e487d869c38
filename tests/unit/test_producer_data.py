"""Generated row values: reproducible from the seed, and within what the columns store."""

import random
from datetime import UTC, datetime
from decimal import Decimal

from producer.data import cents, customer_update, email_user, make_faker, new_customer, new_order, order_update

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def generate(seed: int) -> list[dict]:
    fake, rng = make_faker(seed), random.Random(seed)
    return [row for _ in range(50) for row in (new_customer(fake, rng), new_order(fake, rng, 1, NOW),
                                               customer_update(fake, rng, NOW), order_update(fake, rng))]


def test_same_seed_generates_the_same_values():
    assert generate(42) == generate(42)


def test_different_seeds_generate_different_values():
    assert generate(42) != generate(43)


def test_money_has_exactly_two_decimal_places():
    fake, rng = make_faker(1), random.Random(1)
    amounts = [new_order(fake, rng, 1, NOW)["amount"] for _ in range(300)]
    amounts += [new_customer(fake, rng)["credit_limit"] for _ in range(300)]
    assert all(a.as_tuple().exponent == -2 for a in amounts)
    assert all(Decimal("0") <= a < Decimal("10000000000") for a in amounts)  # fits numeric(12,2)


def test_cents_become_a_two_place_decimal():
    assert str(cents(1250)) == "12.50" and str(cents(7)) == "0.07"


def test_order_is_placed_before_now_and_delivered_after():
    fake, rng = make_faker(2), random.Random(2)
    for _ in range(100):
        order = new_order(fake, rng, 5, NOW)
        assert order["ordered_at"] <= NOW and order["delivery_date"] > order["ordered_at"].date()
        assert order["customer_id"] == 5 and order["status"] == "pending"


def test_email_user_is_ascii_from_the_name():
    assert email_user("Frédéric Joly-Gallet") == "frederic.joly.gallet"


def test_email_user_falls_back_when_the_name_has_no_latin_letters():
    assert email_user("木村 陽一") == "customer"


def test_updates_always_patch_the_json_document():
    fake, rng = make_faker(3), random.Random(3)
    assert all(customer_update(fake, rng, NOW)["profile_patch"] for _ in range(50))
    assert all(isinstance(order_update(fake, rng)["details_patch"], dict) for _ in range(50))
