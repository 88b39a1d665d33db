"""Replacements: re-shipping an order's lines at no charge, valued by the server.

A replacement gives the customer goods, so it is money like any other remedy: the server values
it from the lines it re-ships, never from a figure in the request, and that value is what the
authority matrix and the audit threshold see. An order is replaced at most
`authority.replacements_per_order` times (policy.yml; one unless it says otherwise), and a
replacement is not replaced again (a second failure is refunded or credited on the original
order). Replacement n of order X is order X-Rn, so the primary key settles two people replacing
one order at once: both try the same n, and one of them is refused.
Data functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Order
from bot.errors import Conflict


def value(order: Order) -> int:
    """What re-shipping costs: the order's lines at the prices the customer paid. A replacement
    order is free to the customer (total 0), so its lines, not its total, are what it is worth."""
    return sum(int(line["qty"]) * int(line["price_cents"]) for line in order.items.get("lines", []))


def priced(order: Order, amount_cents: int | None) -> int:
    """What a replacement of `order` counts against authority: its value, by the server.

    A request may leave the figure out. One that names another figure is refused rather than
    silently corrected: it means the page or the agent believes something else about the order
    (a stale page, a typo, a forged request), and the ledger must show what the agent meant to
    give. The desk fills in the server's figure, so the honest path costs nothing."""
    worth = value(order)
    if worth <= 0:
        raise Conflict(f"order {order.id} has no lines to re-ship")
    if amount_cents is not None and amount_cents != worth:
        raise Conflict(
            f"a replacement of order {order.id} re-ships its lines, worth {worth} cents; "
            f"the amount must be {worth} cents, not {amount_cents}"
        )
    return worth


async def next_number(session: AsyncSession, order: Order, limit: int) -> int:
    """The number of `order`'s next replacement (1 for its first), or Conflict when it is a
    replacement itself or has had the `limit` replacements the policy allows."""
    original = order.replaces_order_id
    if original is not None:
        raise Conflict(
            f"order {order.id} is itself a replacement of order {original}: replacements are "
            f"not replaced; refund or credit order {original} instead"
        )
    made = int(
        await session.scalar(
            select(func.count()).select_from(Order).where(Order.replaces_order_id == order.id)
        )
        or 0
    )
    if made >= limit:
        allowed = f"{limit} replacement{'' if limit == 1 else 's'}"
        raise Conflict(
            f"order {order.id} was already replaced ({made} of the {allowed} per order the "
            "policy allows): refund or credit it instead"
            if made
            else f"the policy allows no replacements (authority.replacements_per_order is {limit})"
        )
    return made + 1


async def ship(session: AsyncSession, order: Order, limit: int, now: datetime) -> Order:
    """Create the replacement order, or refuse if the order is not (or no longer) replaceable."""
    number = await next_number(session, order, limit)
    replacement = Order(
        id=f"{order.id}-R{number}",
        customer_id=order.customer_id,
        placed_at=now,
        status="Replacement: preparing to ship",
        items=order.items,
        total_cents=0,
        shipping_cents=0,
        replaces_order_id=order.id,
    )
    try:
        async with session.begin_nested():  # someone else made replacement `number` meanwhile
            session.add(replacement)
    except IntegrityError:
        raise Conflict(
            f"order {order.id} was replaced by someone else just now ({replacement.id})"
        ) from None
    return replacement
