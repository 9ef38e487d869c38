"""Realistic row values from Faker and a seeded random.Random: pure given their inputs, no I/O.

Inserts get complete rows; updates get the columns to change (None keeps the stored value) and a
JSON patch merged into the stored document, as an application would do.
"""

import random
import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

from producer.plan import CUSTOMERS, Op

# Several locales so names, streets and cities carry accents and non-Latin scripts through the pipeline.
LOCALES = ["en_US", "de_DE", "fr_FR", "ja_JP"]
CURRENCIES = ["EUR", "USD", "GBP", "JPY"]
CURRENCY_WEIGHTS = [45, 35, 15, 5]
TIERS = ["bronze", "silver", "gold", "platinum"]
CHANNELS = ["web", "ios", "android", "store"]
LATER_STATUSES = ["paid", "shipped", "delivered", "cancelled", "refunded"]
CENT = Decimal("0.01")


def make_faker(seed: int) -> Faker:
    fake = Faker(LOCALES)
    fake.seed_instance(seed)
    return fake


def cents(amount: int) -> Decimal:
    """An integer number of cents as a Decimal with exactly two places, as numeric(12,2) stores it."""
    return (Decimal(amount) / 100).quantize(CENT)


def email_user(full_name: str) -> str:
    """An ASCII mailbox name from a person's name; the writer appends the row id to make it unique."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", ".", ascii_name.lower()).strip(".")
    return slug or "customer"


def new_customer(fake: Faker, rng: random.Random) -> dict[str, Any]:
    # One locale per customer, so name, address and phone number belong together.
    fake = fake[rng.choice(LOCALES)]
    full_name = fake.name()
    return {
        "email_user": email_user(full_name),
        "email_domain": fake.free_email_domain(),
        "full_name": full_name,
        "is_active": rng.random() < 0.9,
        "profile": {
            "address": {"street": fake.street_address(), "city": fake.city(), "postcode": fake.postcode()},
            "phone": fake.phone_number(),
            "tier": rng.choice(TIERS),
            "marketing_opt_in": rng.random() < 0.4,
            "tags": rng.sample(["newsletter", "vip", "b2b", "student", "returning"], k=rng.randint(0, 2)),
        },
        "credit_limit": cents(rng.randrange(0, 2_000_000, 2_500)),
    }


def new_order(fake: Faker, rng: random.Random, customer_id: int, now: datetime) -> dict[str, Any]:
    ordered_at = now - timedelta(seconds=rng.uniform(0, 3600))
    items = [
        {"sku": fake.bothify("SKU-####-??").upper(), "qty": rng.randint(1, 5),
         "unit_price": str(cents(rng.randint(99, 25_000)))}
        for _ in range(rng.randint(1, 4))
    ]
    return {
        "customer_id": customer_id,
        # Amounts from cents keep the scale exact; a few tiny and large ones exercise the edges of numeric(12,2).
        "amount": cents(rng.choice([rng.randint(1, 99), rng.randint(100, 500_000), rng.randint(100, 500_000),
                                    rng.randint(1_000_000, 99_999_999_999)])),
        "currency": rng.choices(CURRENCIES, CURRENCY_WEIGHTS)[0],
        "status": "pending",
        "is_gift": rng.random() < 0.1,
        "details": {
            "items": items,
            "channel": rng.choice(CHANNELS),
            "note": fake.sentence() if rng.random() < 0.3 else None,
        },
        "ordered_at": ordered_at,
        "delivery_date": (ordered_at + timedelta(days=rng.randint(1, 10))).date(),
    }


def customer_update(fake: Faker, rng: random.Random, now: datetime) -> dict[str, Any]:
    """New values for some columns (None = unchanged) and a patch for the profile document."""
    patch: dict[str, Any] = {"last_seen": now.isoformat()}
    if rng.random() < 0.3:
        patch["tier"] = rng.choice(TIERS)
    if rng.random() < 0.2:
        mover = fake[rng.choice(LOCALES)]
        patch["address"] = {"street": mover.street_address(), "city": mover.city(), "postcode": mover.postcode()}
    return {
        "full_name": fake.name() if rng.random() < 0.1 else None,
        "is_active": (rng.random() < 0.8) if rng.random() < 0.3 else None,
        "credit_limit": cents(rng.randrange(0, 2_000_000, 2_500)) if rng.random() < 0.4 else None,
        "profile_patch": patch,
    }


def order_update(fake: Faker, rng: random.Random) -> dict[str, Any]:
    """A status change, sometimes a corrected amount or gift flag, and a patch for the details document."""
    status = rng.choice(LATER_STATUSES)
    patch: dict[str, Any] = {}
    if status == "shipped":
        patch["tracking"] = {"carrier": rng.choice(["DHL", "UPS", "La Poste", "Yamato"]),
                             "number": fake.bothify("??#########").upper()}
    return {
        "status": status,
        "amount": cents(rng.randint(100, 500_000)) if rng.random() < 0.1 else None,
        "is_gift": (rng.random() < 0.5) if rng.random() < 0.05 else None,
        "details_patch": patch,
    }


def values_for(op: Op, fake: Faker, rng: random.Random, now: datetime) -> dict[str, Any] | None:
    """The values an operation writes: a new row, the changes of an update, nothing for a delete."""
    if op.kind == "insert":
        return new_customer(fake, rng) if op.table == CUSTOMERS else new_order(fake, rng, op.customer_id, now)
    if op.kind == "update":
        return customer_update(fake, rng, now) if op.table == CUSTOMERS else order_update(fake, rng)
    return None
