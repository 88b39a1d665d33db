"""The handoff queue: what is waiting, who claims it, and how a conversation leaves a person.

Data functions take a session; the caller owns the transaction. Every transition is a
conditional UPDATE checked by row count, with an event row naming the actor (N5, N7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations import StoredMessage, add_message
from bot.db.models import Conversation, Event, Mode, Role, Ticket, TicketStatus, User, utcnow

WRAP_UPS = ("resolved", "refunded", "credited", "replaced", "bot_could_have_answered", "no_reply")


class QueueError(Exception):
    """A queue action that cannot happen now; the message says why (mapped to HTTP 409)."""


class Forbidden(Exception):
    """The user may not act on this conversation (mapped to HTTP 403)."""


@dataclass(frozen=True)
class Waiting:
    ticket_id: int
    conversation_id: str
    reason: str
    priority: str
    language: str
    summary: str
    waiting_since: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


async def waiting(session: AsyncSession) -> list[Waiting]:
    """Waiting tickets, high priority first, then the longest waiting (FIFO: nobody starves)."""
    rows = await session.execute(
        select(Ticket, Conversation.language)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .where(Ticket.status == TicketStatus.WAITING)
        .order_by(case((Ticket.priority == "high", 0), else_=1), Ticket.created_at, Ticket.id)
    )
    return [
        Waiting(
            ticket_id=ticket.id,
            conversation_id=ticket.conversation_id,
            reason=ticket.reason,
            priority=ticket.priority,
            language=language,
            summary=str(ticket.brief.get("summary") or ""),
            waiting_since=ticket.created_at.isoformat(),
        )
        for ticket, language in rows
    ]


def _event(
    conversation_id: str,
    kind: str,
    actor: str,
    from_mode: str | None,
    to_mode: str | None,
    **data: Any,
) -> Event:
    return Event(
        conversation_id=conversation_id,
        kind=kind,
        actor=actor,
        from_mode=from_mode,
        to_mode=to_mode,
        data=data or None,
    )


async def claim(session: AsyncSession, ticket_id: int, agent: User, lease: timedelta) -> Ticket:
    """Exactly one claim wins: the database decides with a conditional UPDATE."""
    # Lock the agent's row so two claims by the same agent cannot both pass the limit.
    await session.execute(select(User.id).where(User.id == agent.id).with_for_update())
    held = await session.scalar(
        select(func.count()).where(
            Ticket.agent_id == agent.id, Ticket.status == TicketStatus.ASSIGNED
        )
    )
    if (held or 0) >= agent.max_concurrent:
        raise QueueError(
            f"you already have {held} conversations open (limit {agent.max_concurrent})"
        )
    now = utcnow()
    claimed = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == TicketStatus.WAITING)
        .values(
            status=TicketStatus.ASSIGNED,
            agent_id=agent.id,
            claimed_at=now,
            lease_expires_at=now + lease,
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise QueueError("this conversation was already taken or is no longer waiting")
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    await session.execute(
        update(Conversation)
        .where(Conversation.id == ticket.conversation_id, Conversation.mode == Mode.QUEUED)
        .values(mode=Mode.ASSIGNED)
    )
    session.add(
        _event(
            ticket.conversation_id,
            "claimed",
            agent.username,
            Mode.QUEUED,
            Mode.ASSIGNED,
            ticket=ticket_id,
        )
    )
    return ticket


async def owned_ticket(session: AsyncSession, conversation_id: str, user: User) -> Ticket:
    """The open ticket of a conversation this user may work on (its agent, or a supervisor)."""
    ticket = await session.scalar(
        select(Ticket).where(
            Ticket.conversation_id == conversation_id, Ticket.status != TicketStatus.CLOSED
        )
    )
    if ticket is None:
        raise QueueError("this conversation has no open ticket")
    if ticket.agent_id is None and user.role != "supervisor":
        raise QueueError("this conversation is waiting in the queue: claim it first")
    if ticket.agent_id != user.id and user.role != "supervisor":
        raise Forbidden("this conversation belongs to another agent")
    return ticket


async def renew_lease(session: AsyncSession, ticket: Ticket, lease: timedelta) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.ASSIGNED)
        .values(lease_expires_at=utcnow() + lease)
    )


async def reply(
    session: AsyncSession, conversation_id: str, agent: User, text: str, lease: timedelta
) -> StoredMessage:
    ticket = await owned_ticket(session, conversation_id, agent)
    if ticket.status != TicketStatus.ASSIGNED:
        raise QueueError("claim the conversation before replying")
    await renew_lease(session, ticket, lease)
    return await add_message(
        session, conversation_id, Role.AGENT, text, payload={"agent": agent.display_name}
    )


async def _close(
    session: AsyncSession, ticket: Ticket, user: User, to_mode: str, wrap_up: str
) -> None:
    closed = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status != TicketStatus.CLOSED)
        .values(status=TicketStatus.CLOSED, closed_at=utcnow(), wrap_up=wrap_up)
    )
    moved = await session.execute(
        update(Conversation)
        .where(
            Conversation.id == ticket.conversation_id,
            Conversation.mode.in_((Mode.QUEUED, Mode.ASSIGNED)),
        )
        .values(mode=to_mode)
    )
    if closed.rowcount != 1 or moved.rowcount != 1:  # type: ignore[attr-defined]
        raise QueueError("this conversation was closed or returned already")
    session.add(
        _event(
            ticket.conversation_id, "closed", user.username, Mode.ASSIGNED, to_mode, wrap_up=wrap_up
        )
    )


async def return_to_bot(
    session: AsyncSession, conversation_id: str, user: User, outcome: str
) -> Ticket:
    ticket = await owned_ticket(session, conversation_id, user)
    await _close(session, ticket, user, Mode.BOT, outcome)
    return ticket


async def resolve(
    session: AsyncSession, conversation_id: str, user: User, wrap_up: str, question: str
) -> StoredMessage:
    """Close with a wrap-up code and ask the customer the satisfaction question."""
    if wrap_up not in WRAP_UPS:
        raise QueueError(f"wrap_up must be one of {', '.join(WRAP_UPS)}")
    ticket = await owned_ticket(session, conversation_id, user)
    asked = await add_message(
        session, conversation_id, Role.SYSTEM, question, payload={"survey": "csat"}
    )
    await _close(session, ticket, user, Mode.CLOSED, wrap_up)
    return asked


async def release_expired_leases(session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Claimed tickets whose agent went silent go back to the queue; returns their conversations."""
    now = now or utcnow()
    expired = list(
        await session.scalars(
            select(Ticket).where(
                Ticket.status == TicketStatus.ASSIGNED, Ticket.lease_expires_at < now
            )
        )
    )
    released = []
    for ticket in expired:
        done = await session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket.id,
                Ticket.status == TicketStatus.ASSIGNED,
                Ticket.lease_expires_at < now,
            )
            .values(
                status=TicketStatus.WAITING, agent_id=None, claimed_at=None, lease_expires_at=None
            )
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            await session.execute(
                update(Conversation)
                .where(
                    Conversation.id == ticket.conversation_id, Conversation.mode == Mode.ASSIGNED
                )
                .values(mode=Mode.QUEUED)
            )
            session.add(
                _event(
                    ticket.conversation_id,
                    "lease_expired",
                    "system",
                    Mode.ASSIGNED,
                    Mode.QUEUED,
                    ticket=ticket.id,
                )
            )
            released.append(ticket.conversation_id)
    return released
