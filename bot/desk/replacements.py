"""Replacements: re-shipping an order's lines at no charge, valued by the server.

A replacement gives the customer goods, so it is money like any other remedy: the server values
it from the lines it re-ships, never from a figure in the request, and that value is what the
authority matrix and the audit threshold see. One replacement per purchase: an order is replaced
at most once (the database's unique index settles two people trying at once), and a replacement
is not replaced again (a second failure is refunded or credited on the original order).
Data functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Order
from bot.errors import Conflict


def value(order: Order) -> int:
    """What re-shipping costs: the order's lines at the prices the customer paid. A replacement
    order is free to the customer (total 0), so its lines, not its total, are what it is worth."""
    return sum(int(line["qty"]) * int(line["price_cents"]) for line in order.items.get("lines", []))


def check_value(order: Order, amount_cents: int) -> None:
    """Refuse a request that names another figure rather than silently correcting it: a
    different figure means the page or the agent believes something else about the order (a
    stale page, a typo, a forged request), and the ledger must show what the agent meant to give.
    The desk fills in the server's figure, so the honest path costs nothing."""
    worth = value(order)
    if worth <= 0:
        raise Conflict(f"order {order.id} has no lines to re-ship")
    if amount_cents != worth:
        raise Conflict(
            f"a replacement of order {order.id} re-ships its lines, worth {worth} cents; "
            f"the amount must be {worth} cents, not {amount_cents}"
        )


async def check_replaceable(session: AsyncSession, order: Order) -> None:
    original = order.replaces_order_id
    if original is not None:
        raise Conflict(
            f"order {order.id} is itself a replacement of order {original}: one replacement "
            f"per purchase; refund or credit order {original} instead"
        )
    replaced = await session.scalar(select(exists().where(Order.replaces_order_id == order.id)))
    if replaced:
        raise Conflict(f"order {order.id} was already replaced ({order.id}-R1)")


async def ship(session: AsyncSession, order: Order, now: datetime) -> Order:
    """Create the replacement order, or refuse if the order is not (or no longer) replaceable."""
    await check_replaceable(session, order)
    replacement = Order(
        id=f"{order.id}-R1",
        customer_id=order.customer_id,
        placed_at=now,
        status="Replacement: preparing to ship",
        items=order.items,
        total_cents=0,
        shipping_cents=0,
        replaces_order_id=order.id,
    )
    try:
        async with session.begin_nested():  # someone else replaced it since the check above
            session.add(replacement)
    except IntegrityError:
        raise Conflict(f"order {order.id} was already replaced ({order.id}-R1)") from None
    return replacement
