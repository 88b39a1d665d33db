"""Demo customers, orders and Autoships, so the desk and its remedies act on real rows.

`python -m bot seed-demo` adds them to an empty database (`make run` does so on a fresh machine).
A real deployment reads these from the shop's systems instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Customer, Order, Subscription

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _line(name: str, qty: int, price_cents: int) -> dict[str, Any]:
    return {"name": name, "qty": qty, "price_cents": price_cents}


CUSTOMERS = [
    ("C1001", "Maya Thompson", "maya.t@example.com", "+1 614 555 0141", 2019, "Biscuit (Labrador)"),
    (
        "C1002",
        "Daniel Okafor",
        "d.okafor@example.com",
        "+1 512 555 0187",
        2022,
        "Luna, Miso (cats)",
    ),
    ("C1003", "Rosa Delgado", "rosa.delgado@example.com", None, 2024, "Pepper (Beagle)"),
    ("C1004", "Harold Wexley", "hwexley@example.com", "+1 302 555 0112", 2016, "Mittens (cat)"),
    ("C1005", "Priya Raman", "priya.r@example.com", "+1 206 555 0166", 2021, "Nori (Shiba Inu)"),
]

# (order id, customer, days ago, status, lines, shipping cents)
# (order id, customer, placed days ago, status, lines, shipping cents)
ORDERS = [
    ("71042388", "C1001", 3, "Shipped", [_line("Salmon & Rice Dry Dog Food, 30 lb", 1, 6499)], 0),
    ("71039951", "C1001", 34, "Delivered", [_line("Dental Chews, 30 count", 2, 1899)], 699),
    (
        "71044720",
        "C1002",
        1,
        "Preparing to ship",
        [
            _line("Clumping Cat Litter, 40 lb", 2, 2299),
            _line("Turkey Pate Wet Cat Food, 24 cans", 1, 3199),
        ],
        0,
    ),
    ("71031105", "C1002", 61, "Delivered", [_line("Cat Tree, 5 levels", 1, 11999)], 0),
    (
        "71043312",
        "C1003",
        6,
        "Delivered",
        [_line("Paper Towels, 12 rolls", 1, 2499), _line("Beef Training Treats", 3, 899)],
        699,
    ),
    (
        "71040098",
        "C1004",
        9,
        "Delivered",
        [_line("Kidney Care Prescription Cat Food, 8 lb", 1, 5899)],
        0,
    ),
    ("71044101", "C1004", 2, "Out for delivery", [_line("Unscented Litter, 25 lb", 1, 1999)], 699),
    (
        "71041877",
        "C1005",
        12,
        "Delivered",
        [
            _line("Grain-Free Lamb Kibble, 24 lb", 1, 5799),
            _line("Heartworm Chews, 6 doses", 1, 6299),
        ],
        0,
    ),
]

AUTOSHIPS = [
    ("C1001", "Salmon & Rice Dry Dog Food, 30 lb", 4, 5, 6174),
    ("C1002", "Clumping Cat Litter, 40 lb", 3, 12, 2184),
    ("C1004", "Kidney Care Prescription Cat Food, 8 lb", 5, 26, 5604),
    ("C1005", "Heartworm Chews, 6 doses", 26, 80, 5984),
]


async def seed(session: AsyncSession) -> bool:
    """Add the demo rows; False (and nothing added) if there are customers already."""
    if await session.scalar(select(func.count()).select_from(Customer)):
        return False
    for cid, name, email, phone, year, pets in CUSTOMERS:
        session.add(
            Customer(
                id=cid,
                name=name,
                email=email,
                phone=phone,
                member_since=datetime(year, 3, 1, tzinfo=UTC),
                pets=pets,
            )
        )
    await session.flush()
    for oid, cid, days_ago, status, lines, shipping in ORDERS:
        total = sum(line["qty"] * line["price_cents"] for line in lines) + shipping
        session.add(
            Order(
                id=oid,
                customer_id=cid,
                placed_at=NOW - timedelta(days=days_ago),
                status=status,
                items={"lines": lines},
                total_cents=total,
                shipping_cents=shipping,
            )
        )
    for cid, product, weeks, in_days, price in AUTOSHIPS:
        session.add(
            Subscription(
                customer_id=cid,
                product=product,
                every_weeks=weeks,
                next_delivery=NOW + timedelta(days=in_days),
                status="active",
                price_cents=price,
            )
        )
    await session.flush()
    return True
