"""Customer records from the shop's systems, for the desk.

The built-in shop's records are this service's own tables. With the shop's backend
(SHOP_CONNECTOR=http) each read asks the shop, within SHOP_TIMEOUT_SECONDS, and keeps a copy in
the same tables (its orders are what grants point at). When the shop does not answer, the copy is
shown marked stale, with the time it was made, so nobody takes old figures for current ones.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations.messages import get_conversation
from bot.db.models import Customer, Order, Subscription, utcnow
from bot.desk import customers
from bot.shop.http import HttpShop, ShopUnavailable

log = logging.getLogger(__name__)


def _day(value: Any) -> datetime:
    """A date (or date-time) of the shop's, as a UTC datetime."""
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


async def _copy(session: AsyncSession, record: dict[str, Any], now: datetime) -> None:
    """Make the local rows say what the shop's record says (raises KeyError, ValueError or
    TypeError on a record that does not follow the contract)."""
    customer_id = record["id"]
    await session.merge(
        Customer(
            id=customer_id,
            name=str(record["name"]),
            email=str(record.get("email") or ""),
            phone=record.get("phone"),
            member_since=_day(record["member_since"]),
            pets=record.get("pets"),
            credit_balance_cents=int(record.get("credit_balance_cents") or 0),
            synced_at=now,
        )
    )
    for order in record.get("orders") or []:
        await session.merge(
            Order(
                id=str(order["id"]),
                customer_id=customer_id,
                placed_at=_day(order["placed_at"]),
                status=str(order["status"]),
                items={"lines": list(order.get("lines") or [])},
                total_cents=int(order["total_cents"]),
                shipping_cents=int(order.get("shipping_cents") or 0),
                refunded_cents=int(order.get("refunded_cents") or 0),
                fees_waived_cents=int(order.get("fees_waived_cents") or 0),
                replaces_order_id=order.get("replaces_order_id"),
            )
        )
    await session.execute(delete(Subscription).where(Subscription.customer_id == customer_id))
    for autoship in record.get("autoships") or []:
        session.add(
            Subscription(
                customer_id=customer_id,
                product=str(autoship["product"]),
                every_weeks=int(autoship["every_weeks"]),
                next_delivery=_day(autoship["next_delivery"]),
                status=str(autoship["status"]),
                price_cents=int(autoship["price_cents"]),
            )
        )


class ShopRecords:
    """Reads through to the shop's backend when there is one (`shop`), else the local tables."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], shop: HttpShop | None) -> None:
        self.sessions, self.shop = sessions, shop

    async def refresh(self, customer_id: str) -> str | None:
        """Copy the shop's record of the customer here. None when done (or there is no shop
        backend); otherwise why the copy here may be out of date. KeyError: unknown to the shop."""
        if self.shop is None:
            return None
        try:
            record = await self.shop.customer(customer_id)
        except ShopUnavailable as error:
            log.warning("shop record of %s unavailable: %s", customer_id, error)
            return "The shop's systems are not answering"
        if record is None:
            raise KeyError(customer_id)
        for attempt in range(2):  # two desks copying one customer at once: the second re-reads
            try:
                async with self.sessions.begin() as session:
                    await _copy(session, record, utcnow())
                return None
            except IntegrityError:
                if attempt:
                    raise
            except (KeyError, ValueError, TypeError) as error:
                log.warning("shop record of %s not readable: %r", customer_id, error)
                return "The shop's systems sent a record this service cannot read"
        return None

    async def refresh_conversation(self, conversation_id: str) -> None:
        """Before a grant: the shop's latest figures for the conversation's customer, copied
        here, so its headroom is checked against them (when the shop does not answer, the copy
        stands: the shop checks again when it executes the grant)."""
        if self.shop is None:
            return
        async with self.sessions() as session:
            customer_id = (await get_conversation(session, conversation_id)).customer_id
        if customer_id is not None:
            with contextlib.suppress(KeyError):
                await self.refresh(customer_id)

    async def record(self, customer_id: str | None) -> dict[str, Any] | None:
        """The desk's customer panel (bot/desk/customers.py), from the shop when it answers.
        `as_of` is when the figures were read; `stale` says why they may be old."""
        if customer_id is None:
            return None
        try:
            stale = await self.refresh(customer_id)
        except KeyError:
            return None
        async with self.sessions() as session:
            found = await customers.customer_record(session, customer_id)
            row = await session.get(Customer, customer_id)
        if found is None or row is None:
            return None if stale is None else {"id": customer_id, "stale": stale}
        as_of = row.synced_at if self.shop is not None else None
        return found | {
            "as_of": (as_of or utcnow()).isoformat(),
            "stale": stale,
        }

    async def search(self, query: str) -> list[dict[str, Any]]:
        """Customers matching `query`: the shop's answer when there is a shop backend
        (ShopUnavailable when it does not answer), the local tables otherwise."""
        if self.shop is not None:
            return [
                {k: c.get(k) for k in ("id", "name", "email", "phone")}
                for c in await self.shop.search(query)
            ]
        async with self.sessions() as session:
            found = await customers.search(session, query)
        return [{"id": c.id, "name": c.name, "email": c.email, "phone": c.phone} for c in found]
