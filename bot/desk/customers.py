"""The desk's customer panel: finding a customer, their profile, and linking them to a chat.

Data functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.messages import event
from bot.db.models import Conversation, Customer, Order, Subscription, User
from bot.errors import Conflict


async def search(session: AsyncSession, query: str) -> list[Customer]:
    """Customers whose e-mail, name or phone contains `query`, or with that id or order number."""
    like = f"%{query.lower()}%"
    by_order = select(Order.customer_id).where(Order.id == query)
    found = await session.scalars(
        select(Customer)
        .where(
            or_(
                Customer.email.ilike(like),
                Customer.name.ilike(like),
                Customer.phone.ilike(like),
                Customer.id == query,
                Customer.id.in_(by_order),
            )
        )
        .limit(10)
    )
    return list(found)


async def link_customer(
    session: AsyncSession, conversation_id: str, customer_id: str, user: User
) -> None:
    """Record who the customer is, once an agent has checked it (the brief had no verified id)."""
    if await session.get(Customer, customer_id) is None:
        raise Conflict(f"there is no customer {customer_id!r}")
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(customer_id=customer_id)
    )
    session.add(event(conversation_id, "customer_linked", user.username, customer_id=customer_id))


async def customer_record(session: AsyncSession, customer_id: str | None) -> dict[str, Any] | None:
    """Profile, orders, Autoships and earlier conversations, for the desk's customer panel."""
    if customer_id is None:
        return None
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return None
    orders = await session.scalars(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.placed_at.desc())
    )
    autoships = await session.scalars(
        select(Subscription).where(Subscription.customer_id == customer_id)
    )
    earlier = await session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.created_at.desc())
        .limit(20)
    )
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "member_since": customer.member_since.date().isoformat(),
        "pets": customer.pets,
        "credit_balance_cents": customer.credit_balance_cents,
        "orders": [
            {
                "id": o.id,
                "placed_at": o.placed_at.date().isoformat(),
                "status": o.status,
                "lines": o.items.get("lines", []),
                "total_cents": o.total_cents,
                "shipping_cents": o.shipping_cents,
                "refunded_cents": o.refunded_cents,
                "fees_waived_cents": o.fees_waived_cents,
                "replaces_order_id": o.replaces_order_id,
            }
            for o in orders
        ],
        "autoships": [
            {
                "product": a.product,
                "every_weeks": a.every_weeks,
                "next_delivery": a.next_delivery.date().isoformat(),
                "status": a.status,
                "price_cents": a.price_cents,
            }
            for a in autoships
        ],
        "earlier_conversations": [
            {"id": c.id, "started": c.created_at.isoformat(), "mode": c.mode} for c in earlier
        ],
    }
