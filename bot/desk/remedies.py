"""Remedies agents give on the spot, within the authority matrix in policy.yml.

Within their limits agents act without asking; grants at or above the audit threshold are made and
flagged for review; above the limit the agent asks a supervisor, who decides in one step. Limits
are checked here, on the server, whatever a page sends. Every grant is an append-only ledger row.
Data functions take a session and the time (`now`); the caller owns the transaction. (The
customer panel the desk shows beside a conversation is bot/desk/customers.py.)

Each grant is written with its delivery to the shop's systems (bot/shop/): the built-in shop's
tables change in the same transaction, so it is done at once; the shop's own backend
(`deliver_later`) gets it from the outbox after the commit, and until it confirms, the grant is
pending. Its headroom (what is left to refund or waive, replacements left) then counts the
grants still pending on the order, and the shop checks again when it executes it.

"Today" for the per-day limits starts at midnight UTC of `now`; what counts towards it is the
grants' `created_at`, which the database model stamps when the row is made.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actions.handoff.policy import REMEDIES, Policy
from bot.conversations.messages import event, get_conversation
from bot.db.models import (
    Approval,
    ApprovalStatus,
    Conversation,
    Customer,
    Delivery,
    DeliveryState,
    Grant,
    Order,
    User,
)
from bot.desk import replacements
from bot.errors import Conflict, Forbidden

# what an order cannot take, the same whether the built-in shop or the shop's backend will do it
LEFT_TO_REFUND = "only {left} cents of this order are left to refund"
LEFT_TO_WAIVE = "only {left} cents of fees on this order can be waived"


class AboveAuthority(Forbidden):
    code = "above_authority"

    def __init__(self, message: str, remaining: dict[str, int]) -> None:
        super().__init__(message, remaining=remaining)
        self.remaining = remaining


@dataclass(frozen=True)
class Request:
    """What the desk asks for. The amount may be left out of a replacement: the server values
    it (bot/desk/replacements.py)."""

    kind: str
    order_id: str
    amount_cents: int | None
    reason: str


@dataclass(frozen=True)
class Priced:
    """A request as the server counts it: the amount is the server's figure for a replacement,
    and what the desk asked for otherwise (within the order, checked when it is applied)."""

    kind: str
    order_id: str
    amount_cents: int
    reason: str


def _start_of_day(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


async def _granted(session: AsyncSession, user: User, kind: str, **where: Any) -> int:
    """What `user` has granted of `kind`; a grant a supervisor cancelled gave nothing."""
    query = (
        select(func.coalesce(func.sum(Grant.amount_cents), 0))
        .join(Delivery, Delivery.grant_id == Grant.id)
        .where(
            Grant.actor_id == user.id,
            Grant.kind == kind,
            Delivery.state != DeliveryState.CANCELLED,
        )
    )
    if "conversation_id" in where:
        query = query.where(Grant.conversation_id == where["conversation_id"])
    if "since" in where:
        query = query.where(Grant.created_at >= where["since"])
    return int(await session.scalar(query) or 0)


async def remaining_authority(
    session: AsyncSession, user: User, conversation_id: str, policy: Policy, now: datetime
) -> dict[str, dict[str, int]]:
    """What `user` may still grant without approval, per remedy, in this conversation and today."""
    limits = policy.authority.get(user.role)
    if not limits:
        return {kind: {"per_conversation": 0, "per_day": 0} for kind in REMEDIES}
    since = _start_of_day(now)
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


async def _priced(session: AsyncSession, order: Order, request: Request, policy: Policy) -> Priced:
    """What only the order can say: what a replacement is worth (whatever the request says),
    and whether it can be had."""
    if request.kind == "replacement":
        amount = replacements.priced(order, request.amount_cents)
        await replacements.next_number(session, order, policy.replacements_per_order)
    elif request.amount_cents is None:
        raise Conflict(f"say how many cents the {request.kind} is")
    else:
        amount = request.amount_cents
    return Priced(request.kind, request.order_id, amount, request.reason)


def validate(request: Request) -> None:
    if request.kind not in REMEDIES:
        raise Conflict(f"kind must be one of {', '.join(REMEDIES)}")
    if request.amount_cents is not None and request.amount_cents <= 0:
        raise Conflict("the amount must be a positive number of cents")
    if not request.reason.strip() or len(request.reason) > 500:
        raise Conflict("say why, in up to 500 characters")


async def _increment(
    session: AsyncSession, model: Any, row_id: str, column: Any, amount: int, ceiling: Any = None
) -> int | None:
    """Add `amount` to a money column in one conditional UPDATE (never read-modify-write), so two
    people acting on one order at once cannot both spend the same headroom. None if it would
    go past `ceiling`."""
    query = update(model).where(model.id == row_id)
    if ceiling is not None:
        query = query.where(column + amount <= ceiling)
    new = await session.scalar(query.values({column: column + amount}).returning(column))
    return None if new is None else int(new)


async def _refund(
    session: AsyncSession, order: Order, amount: int, policy: Policy, now: datetime
) -> dict[str, Any]:
    new = await _increment(
        session, Order, order.id, Order.refunded_cents, amount, Order.total_cents
    )
    if new is None:
        raise Conflict(LEFT_TO_REFUND.format(left=order.total_cents - order.refunded_cents))
    return {"refunded_cents": new}


async def _waive_fees(
    session: AsyncSession, order: Order, amount: int, policy: Policy, now: datetime
) -> dict[str, Any]:
    new = await _increment(
        session, Order, order.id, Order.fees_waived_cents, amount, Order.shipping_cents
    )
    if new is None:
        raise Conflict(LEFT_TO_WAIVE.format(left=order.shipping_cents - order.fees_waived_cents))
    return {"fees_waived_cents": new}


async def _credit(
    session: AsyncSession, order: Order, amount: int, policy: Policy, now: datetime
) -> dict[str, Any]:
    new = await _increment(
        session, Customer, order.customer_id, Customer.credit_balance_cents, amount
    )
    return {"credit_balance_cents": new}


async def _replace(
    session: AsyncSession, order: Order, amount: int, policy: Policy, now: datetime
) -> dict[str, Any]:
    """The amount is the server's value of the lines (_priced): the lines are re-shipped."""
    replacement = await replacements.ship(session, order, policy.replacements_per_order, now)
    return {"replacement_order_id": replacement.id}


Apply = Callable[[AsyncSession, Order, int, Policy, datetime], Awaitable[dict[str, Any]]]
# remedy kind -> what it changes in the customer's records, refusing what the order cannot take
APPLY: dict[str, Apply] = {
    "refund": _refund,
    "fee_waiver": _waive_fees,
    "credit": _credit,
    "replacement": _replace,
}


async def _apply(
    session: AsyncSession, order: Order, request: Priced, policy: Policy, now: datetime
) -> dict[str, Any]:
    apply = APPLY.get(request.kind)
    if apply is None:
        raise Conflict(f"there is no remedy {request.kind!r}")
    return await apply(session, order, request.amount_cents, policy, now)


async def _pending(session: AsyncSession, order_id: str, kind: str) -> tuple[int, int]:
    """(how many, how many cents) of `kind` granted on the order the shop has not confirmed."""
    count, cents = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Grant.amount_cents), 0))
            .join(Delivery, Delivery.grant_id == Grant.id)
            .where(
                Grant.order_id == order_id,
                Grant.kind == kind,
                Delivery.state == DeliveryState.PENDING,
            )
        )
    ).one()
    return int(count), int(cents)


async def _check_headroom(
    session: AsyncSession, order: Order, request: Priced, policy: Policy
) -> None:
    """For a grant the shop's backend will execute: refuse what the order, as last read from the
    shop, cannot take once the grants still on their way are counted."""
    # one grant at a time per order, so two at once cannot both count the same headroom
    await session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    count, cents = await _pending(session, order.id, request.kind)
    if request.kind == "refund":
        left = order.total_cents - order.refunded_cents - cents
        if request.amount_cents > left:
            raise Conflict(LEFT_TO_REFUND.format(left=max(0, left)))
    elif request.kind == "fee_waiver":
        left = order.shipping_cents - order.fees_waived_cents - cents
        if request.amount_cents > left:
            raise Conflict(LEFT_TO_WAIVE.format(left=max(0, left)))
    elif request.kind == "replacement":
        made = await replacements.next_number(session, order, policy.replacements_per_order) - 1
        if made + count >= policy.replacements_per_order:
            raise Conflict(
                f"order {order.id} has a replacement on its way already: refund or credit it "
                "instead"
            )


async def _record(
    session: AsyncSession,
    conversation: Conversation,
    order: Order,
    request: Priced,
    actor: User,
    policy: Policy,
    now: datetime,
    approval_id: int | None = None,
    deliver_later: bool = False,
) -> tuple[Grant, dict[str, Any]]:
    if deliver_later:
        await _check_headroom(session, order, request, policy)
        applied: dict[str, Any] = {}
    else:
        applied = await _apply(session, order, request, policy, now)
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
        event(
            conversation.id,
            "grant",
            actor.username,
            policy_version=policy.version,
            kind=request.kind,
            amount_cents=request.amount_cents,
            order=order.id,
        )
    )
    await session.flush()
    session.add(
        Delivery(grant_id=grant.id, state=DeliveryState.PENDING, next_attempt_at=now)
        if deliver_later
        else Delivery(
            grant_id=grant.id,
            state=DeliveryState.DONE,
            reference="built-in",
            result=applied,
            next_attempt_at=now,
            finished_at=now,
        )
    )
    await session.flush()
    return grant, applied


async def _within_authority(
    session: AsyncSession,
    user: User,
    conversation_id: str,
    request: Priced,
    policy: Policy,
    advice: str,
    now: datetime,
) -> None:
    # One grant at a time per person, so two at once cannot both fit under the same limit.
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    left = (await remaining_authority(session, user, conversation_id, policy, now))[request.kind]
    if request.amount_cents > min(left["per_conversation"], left["per_day"]):
        raise AboveAuthority(
            f"{request.amount_cents} cents is above your authority for a {request.kind}: {advice}",
            left,
        )


async def grant(
    session: AsyncSession,
    conversation_id: str,
    user: User,
    request: Request,
    policy: Policy,
    now: datetime,
    deliver_later: bool = False,
) -> tuple[Grant, dict[str, Any]]:
    """Give a remedy within `user`'s authority, or raise AboveAuthority."""
    validate(request)
    conversation, order = await _order_of_conversation(session, conversation_id, request.order_id)
    priced = await _priced(session, order, request, policy)
    await _within_authority(
        session, user, conversation_id, priced, policy, "send an approval request", now
    )
    return await _record(
        session, conversation, order, priced, user, policy, now, deliver_later=deliver_later
    )


async def request_approval(
    session: AsyncSession, conversation_id: str, user: User, request: Request, policy: Policy
) -> Approval:
    validate(request)
    _, order = await _order_of_conversation(session, conversation_id, request.order_id)
    priced = await _priced(session, order, request, policy)
    approval = Approval(
        conversation_id=conversation_id,
        order_id=priced.order_id,
        kind=priced.kind,
        amount_cents=priced.amount_cents,
        reason=priced.reason,
        requested_by=user.id,
        policy_version=policy.version,
    )
    session.add(approval)
    await session.flush()
    return approval


async def decide(
    session: AsyncSession,
    approval_id: int,
    supervisor: User,
    approve: bool,
    policy: Policy,
    now: datetime,
    deliver_later: bool = False,
) -> tuple[Approval, Grant | None]:
    """One step: the first decision wins; approving makes the grant, in the supervisor's name."""
    if supervisor.role != "supervisor":
        raise Forbidden("only a supervisor decides approval requests")
    decided = await session.execute(
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == ApprovalStatus.PENDING)
        .values(
            status=ApprovalStatus.APPROVED if approve else ApprovalStatus.DECLINED,
            decided_by=supervisor.id,
            decided_at=now,
        )
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this request was decided already, or does not exist")
    approval = await session.get(Approval, approval_id, populate_existing=True)
    assert approval is not None
    if not approve:
        return approval, None
    request = Request(approval.kind, approval.order_id, approval.amount_cents, approval.reason)
    conversation, order = await _order_of_conversation(
        session, approval.conversation_id, approval.order_id
    )
    priced = await _priced(session, order, request, policy)  # again: the order may have changed
    # A supervisor approves within their own authority; beyond it is not the desk's to give.
    await _within_authority(
        session,
        supervisor,
        approval.conversation_id,
        priced,
        policy,
        "beyond a supervisor's authority; decline it and refer it to finance",
        now,
    )
    made, _ = await _record(
        session, conversation, order, priced, supervisor, policy, now, approval.id, deliver_later
    )
    return approval, made


def grant_body(grant: Grant, delivery: Delivery | None = None) -> dict[str, Any]:
    """A grant for the desk, with where its delivery to the shop stands when given."""
    body = {
        "grant_id": grant.id,
        "kind": grant.kind,
        "amount_cents": grant.amount_cents,
        "order_id": grant.order_id,
        "reason": grant.reason,
        "flagged_for_audit": grant.flagged_for_audit,
        "policy_version": grant.policy_version,
        "approval_id": grant.approval_id,
        "created_at": grant.created_at.isoformat(),
    }
    if delivery is not None:
        body["delivery"] = {
            "state": delivery.state,
            "attempts": delivery.attempts,
            "last_error": delivery.last_error,
            "reference": delivery.reference,
        }
    return body


def _dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


# What was done, in the words the bot's confirmation (domain.yml utter_handback_remedy) puts in
# {remedy_summary}, in each of its languages; another language gets the English.
REMEDY_WORDS = {
    "en": {
        "credit": "a {amount} credit to your account",
        "refund": "a {amount} refund on order {order}",
        "fee_waiver": "{amount} of fees waived on order {order}",
        "replacement": "a free replacement for order {order}",
    },
    "vi": {
        "credit": "cộng {amount} vào số dư tài khoản của bạn",
        "refund": "hoàn {amount} cho đơn hàng {order}",
        "fee_waiver": "miễn {amount} phí cho đơn hàng {order}",
        "replacement": "gửi hàng thay thế miễn phí cho đơn hàng {order}",
    },
    "id": {
        "credit": "kredit {amount} ke akun Kakak",
        "refund": "refund {amount} untuk pesanan {order}",
        "fee_waiver": "pembebasan biaya sebesar {amount} untuk pesanan {order}",
        "replacement": "penggantian barang gratis untuk pesanan {order}",
    },
    "zh": {
        "credit": "向您的账户发放{amount}抵用金",
        "refund": "为订单 {order} 退款{amount}",
        "fee_waiver": "免除订单 {order} 的{amount}费用",
        "replacement": "为订单 {order} 免费补发",
    },
}
# how a list of them reads: (between the first ones, before the last)
LIST_WORDS = {
    "en": (", ", " and "),
    "vi": (", ", " và "),
    "id": (", ", " dan "),
    "zh": ("、", "以及"),
}


def remedies_in_words(done: list[tuple[str, int, str | None]], language: str) -> str | None:
    """(kind, cents, order) as one phrase in `language` (English when it has no words)."""
    words = REMEDY_WORDS.get(language, REMEDY_WORDS["en"])
    between, last = LIST_WORDS.get(language, LIST_WORDS["en"])
    phrases = [
        words[kind].format(amount=_dollars(cents), order=order) for kind, cents, order in done
    ]
    if not phrases:
        return None
    return phrases[0] if len(phrases) == 1 else between.join(phrases[:-1]) + last + phrases[-1]


async def outcome_slots(
    session: AsyncSession, conversation_id: str, outcome: str
) -> dict[str, Any]:
    """What the bot is told when a person hands back: the wrap-up code, and the remedies given
    in this conversation in words, in the conversation's language, so it can confirm them to the
    customer."""
    # two credits are one credit of their sum to the customer; refunds and fee waivers add up
    # per order, and an order is replaced once
    totals: dict[tuple[str, str | None], int] = {}
    for grant, delivery in await grants_of(session, conversation_id):
        if delivery.state != DeliveryState.DONE:
            continue  # the customer is told of what the shop has done, not of what it may do
        key = (grant.kind, None if grant.kind == "credit" else grant.order_id)
        totals[key] = totals.get(key, 0) + grant.amount_cents
    language = (await get_conversation(session, conversation_id)).language
    summary = remedies_in_words(
        [(kind, cents, order) for (kind, order), cents in totals.items()], language
    )
    return {"handoff_outcome": outcome, "remedy_summary": summary}


async def grants_of(session: AsyncSession, conversation_id: str) -> list[tuple[Grant, Delivery]]:
    """The grants made in a conversation, in the order they were made, with their deliveries."""
    rows = await session.execute(
        select(Grant, Delivery)
        .join(Delivery, Delivery.grant_id == Grant.id)
        .where(Grant.conversation_id == conversation_id)
        .order_by(Grant.id)
    )
    return [(grant, delivery) for grant, delivery in rows]


async def conversation_of_approval(session: AsyncSession, approval_id: int) -> str | None:
    approval = await session.get(Approval, approval_id)
    return None if approval is None else approval.conversation_id


async def approvals_for(session: AsyncSession, user: User) -> list[tuple[Approval, str]]:
    """Supervisors: every pending request. Others: their own, to see the answer. Newest first,
    each with the requester's display name."""
    query = (
        select(Approval, User.display_name)
        .join(User, User.id == Approval.requested_by)
        .order_by(Approval.created_at.desc())
        .limit(200)
    )
    if user.role == "supervisor":
        query = query.where(Approval.status == ApprovalStatus.PENDING)
    else:
        query = query.where(Approval.requested_by == user.id)
    return [(approval, name) for approval, name in await session.execute(query)]


async def flagged(session: AsyncSession) -> list[tuple[Grant, str]]:
    """Grants at or above the audit threshold, newest first, each with its actor's name."""
    rows = await session.execute(
        select(Grant, User.display_name)
        .join(User, User.id == Grant.actor_id)
        .where(Grant.flagged_for_audit)
        .order_by(Grant.created_at.desc())
        .limit(500)
    )
    return [(grant, name) for grant, name in rows]
