"""Remedies agents give on the spot, within the authority matrix in policy.yml.

Within their limits agents act without asking; grants at or above the audit threshold are made and
flagged for review; above the limit the agent asks a supervisor, who decides in one step. Limits
are checked here, on the server, whatever a page sends. Every grant is an append-only ledger row.
Data functions take a session; the caller owns the transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Approval,
    Conversation,
    Customer,
    Event,
    Grant,
    Order,
    Subscription,
    User,
    utcnow,
)
from bot.policy import REMEDIES, ServicePolicy
from bot.queue import Forbidden, QueueError


class AboveAuthority(Exception):
    def __init__(self, message: str, remaining: dict[str, int]) -> None:
        super().__init__(message)
        self.remaining = remaining


@dataclass(frozen=True)
class Request:
    kind: str
    order_id: str
    amount_cents: int
    reason: str


def _start_of_day(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


async def _granted(session: AsyncSession, user: User, kind: str, **where: Any) -> int:
    query = select(func.coalesce(func.sum(Grant.amount_cents), 0)).where(
        Grant.actor_id == user.id, Grant.kind == kind
    )
    if "conversation_id" in where:
        query = query.where(Grant.conversation_id == where["conversation_id"])
    if "since" in where:
        query = query.where(Grant.created_at >= where["since"])
    return int(await session.scalar(query) or 0)


async def remaining_authority(
    session: AsyncSession, user: User, conversation_id: str, policy: ServicePolicy
) -> dict[str, dict[str, int]]:
    """What `user` may still grant without approval, per remedy, in this conversation and today."""
    limits = policy.authority.get(user.role)
    if not limits:
        return {kind: {"per_conversation": 0, "per_day": 0} for kind in REMEDIES}
    since = _start_of_day(utcnow())
    remaining = {}
    for kind, limit in limits.items():
        here = await _granted(session, user, kind, conversation_id=conversation_id)
        today = await _granted(session, user, kind, since=since)
        remaining[kind] = {
            "per_conversation": max(0, limit.per_conversation - here),
            "per_day": max(0, limit.per_day - today),
        }
    return remaining


async def _order_of_conversation(
    session: AsyncSession, conversation_id: str, order_id: str
) -> tuple[Conversation, Order]:
    conversation = await session.get(Conversation, conversation_id)
    order = await session.get(Order, order_id)
    if conversation is None or order is None or order.customer_id != conversation.customer_id:
        raise Forbidden("that order does not belong to this conversation's customer")
    return conversation, order


def validate(request: Request) -> None:
    if request.kind not in REMEDIES:
        raise QueueError(f"kind must be one of {', '.join(REMEDIES)}")
    if request.amount_cents <= 0:
        raise QueueError("the amount must be a positive number of cents")
    if not request.reason.strip() or len(request.reason) > 500:
        raise QueueError("say why, in up to 500 characters")


async def _apply(session: AsyncSession, order: Order, request: Request) -> dict[str, Any]:
    """Change the customer's records; refuse what the order cannot take."""
    if request.kind == "refund":
        refundable = order.total_cents - order.refunded_cents
        if request.amount_cents > refundable:
            raise QueueError(f"only {refundable} cents of this order are left to refund")
        order.refunded_cents += request.amount_cents
        return {"refunded_cents": order.refunded_cents}
    if request.kind == "fee_waiver":
        waivable = order.shipping_cents - order.fees_waived_cents
        if request.amount_cents > waivable:
            raise QueueError(f"only {waivable} cents of fees on this order can be waived")
        order.fees_waived_cents += request.amount_cents
        return {"fees_waived_cents": order.fees_waived_cents}
    if request.kind == "credit":
        customer = await session.get(Customer, order.customer_id)
        assert customer is not None
        customer.credit_balance_cents += request.amount_cents
        return {"credit_balance_cents": customer.credit_balance_cents}
    replacement = Order(
        id=f"7{secrets.randbelow(10**7):07d}",
        customer_id=order.customer_id,
        placed_at=utcnow(),
        status="replacement: preparing to ship",
        items=order.items,
        total_cents=0,
        shipping_cents=0,
        replaces_order_id=order.id,
    )
    session.add(replacement)
    return {"replacement_order_id": replacement.id}


async def _record(
    session: AsyncSession,
    conversation: Conversation,
    order: Order,
    request: Request,
    actor: User,
    policy: ServicePolicy,
    approval_id: int | None = None,
) -> tuple[Grant, dict[str, Any]]:
    applied = await _apply(session, order, request)
    grant = Grant(
        conversation_id=conversation.id,
        customer_id=order.customer_id,
        order_id=order.id,
        kind=request.kind,
        amount_cents=request.amount_cents,
        reason=request.reason,
        actor_id=actor.id,
        actor_role=actor.role,
        policy_version=policy.version,
        flagged_for_audit=request.amount_cents >= policy.audit_threshold_cents,
        approval_id=approval_id,
    )
    session.add(grant)
    session.add(
        Event(
            conversation_id=conversation.id,
            kind="grant",
            actor=actor.username,
            policy_version=policy.version,
            data={"kind": request.kind, "amount_cents": request.amount_cents, "order": order.id},
        )
    )
    await session.flush()
    return grant, applied


async def grant(
    session: AsyncSession, conversation_id: str, user: User, request: Request, policy: ServicePolicy
) -> tuple[Grant, dict[str, Any]]:
    """Give a remedy within `user`'s authority, or raise AboveAuthority."""
    validate(request)
    # One grant at a time per agent, so two at once cannot both fit under the same limit.
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    conversation, order = await _order_of_conversation(session, conversation_id, request.order_id)
    left = (await remaining_authority(session, user, conversation_id, policy))[request.kind]
    if request.amount_cents > min(left["per_conversation"], left["per_day"]):
        raise AboveAuthority(
            f"{request.amount_cents} cents is above your authority for a {request.kind}: "
            "send an approval request",
            left,
        )
    return await _record(session, conversation, order, request, user, policy)


async def request_approval(
    session: AsyncSession, conversation_id: str, user: User, request: Request, policy: ServicePolicy
) -> Approval:
    validate(request)
    await _order_of_conversation(session, conversation_id, request.order_id)
    approval = Approval(
        conversation_id=conversation_id,
        order_id=request.order_id,
        kind=request.kind,
        amount_cents=request.amount_cents,
        reason=request.reason,
        requested_by=user.id,
        policy_version=policy.version,
    )
    session.add(approval)
    await session.flush()
    return approval


async def decide(
    session: AsyncSession, approval_id: int, supervisor: User, approve: bool, policy: ServicePolicy
) -> tuple[Approval, Grant | None]:
    """One step: the first decision wins; approving makes the grant, in the supervisor's name."""
    if supervisor.role != "supervisor":
        raise Forbidden("only a supervisor decides approval requests")
    decided = await session.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == "pending")
        .values(
            status="approved" if approve else "declined",
            decided_by=supervisor.id,
            decided_at=utcnow(),
        )
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise QueueError("this request was decided already, or does not exist")
    approval = await session.get(Approval, approval_id, populate_existing=True)
    assert approval is not None
    if not approve:
        return approval, None
    request = Request(approval.kind, approval.order_id, approval.amount_cents, approval.reason)
    conversation, order = await _order_of_conversation(
        session, approval.conversation_id, approval.order_id
    )
    made, _ = await _record(session, conversation, order, request, supervisor, policy, approval.id)
    return approval, made


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
