"""The handoff queue: what is waiting, who claims it, and how a conversation leaves a person.

Data functions take a session, or a `Work` when they change who owns a conversation (its
frames go out after the caller's commit); the caller owns the transaction and gives the time
(`now`, or the Work's): nothing here reads the clock. Every transition is a
conditional UPDATE checked by row count, with an event row naming the actor (N5, N7); mode
changes go through bot/conversations/lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from actions.handoff.policy import LANGUAGE_CODE
from bot.conversations.lifecycle import Work, mode_frame, move
from bot.conversations.messages import StoredMessage, add_message, event
from bot.db.models import (
    CallbackRequest,
    CallbackStatus,
    Conversation,
    Customer,
    Event,
    Mode,
    Note,
    Role,
    StaffRole,
    Ticket,
    TicketStatus,
    User,
)
from bot.errors import Conflict, Forbidden

# Roles that work conversations (designers improve the bot; they hold no tickets).
DESK_ROLES = (StaffRole.AGENT, StaffRole.SENIOR, StaffRole.SUPERVISOR)


class QueueError(Conflict):
    """A queue action that cannot happen now; the message says why."""


@dataclass(frozen=True)
class Waiting:
    ticket_id: int
    conversation_id: str
    reason: str
    priority: str
    language: str
    summary: str
    waiting_since: str
    team: str | None
    escalated: bool
    callback: dict[str, Any] | None
    speakers_online: int  # people online who speak the conversation's language
    customer: str | None  # the linked customer's name, if any

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


QUEUE_ORDER = (case((Ticket.priority == "high", 0), else_=1), Ticket.created_at, Ticket.id)


async def waiting(session: AsyncSession) -> list[Waiting]:
    """Waiting tickets, high priority first, then the longest waiting (FIFO: nobody starves)."""
    rows = list(
        await session.execute(
            select(Ticket, Conversation.language, Customer.name)
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .outerjoin(Customer, Customer.id == Conversation.customer_id)
            .where(Ticket.status == TicketStatus.WAITING)
            .order_by(*QUEUE_ORDER)
        )
    )
    callbacks = {
        c.conversation_id: c
        for c in await session.scalars(
            select(CallbackRequest).where(
                CallbackRequest.status == CallbackStatus.OPEN,
                CallbackRequest.conversation_id.in_([t.conversation_id for t, _, _ in rows]),
            )
        )
    }
    from bot.desk.presence import speakers_online  # presence reads DESK_ROLES from here

    spoken = await speakers_online(session)
    return [
        Waiting(
            ticket_id=ticket.id,
            conversation_id=ticket.conversation_id,
            reason=ticket.reason,
            priority=ticket.priority,
            language=language,
            summary=str(ticket.brief.get("summary") or ""),
            waiting_since=ticket.created_at.isoformat(),
            team=ticket.team,
            escalated=ticket.escalated_at is not None,
            callback=_callback(callbacks.get(ticket.conversation_id)),
            speakers_online=spoken[language],
            customer=name,
        )
        for ticket, language, name in rows
    ]


async def open_callback(session: AsyncSession, conversation_id: str) -> dict[str, Any] | None:
    """The contact details a customer left and no one has acted on yet (the latest), which the
    agent who claims the conversation needs as much as the queue card did."""
    request = await session.scalar(
        select(CallbackRequest)
        .where(
            CallbackRequest.conversation_id == conversation_id,
            CallbackRequest.status == CallbackStatus.OPEN,
        )
        .order_by(CallbackRequest.created_at.desc(), CallbackRequest.id.desc())
        .limit(1)
    )
    return _callback(request)


async def held(session: AsyncSession, user: User) -> tuple[list[Ticket], list[Ticket]]:
    """The tickets this person holds now, oldest claim first, and (supervisors only) the open
    escalated ones, oldest escalation first."""
    assigned = await session.scalars(
        select(Ticket)
        .where(Ticket.status == TicketStatus.ASSIGNED, Ticket.agent_id == user.id)
        .order_by(Ticket.claimed_at)
    )
    escalated: list[Ticket] = []
    if user.role == StaffRole.SUPERVISOR:
        escalated = list(
            await session.scalars(
                select(Ticket)
                .where(Ticket.status != TicketStatus.CLOSED, Ticket.escalated_at.is_not(None))
                .order_by(Ticket.escalated_at)
            )
        )
    return list(assigned), escalated


@dataclass(frozen=True)
class OpenTicket:
    ticket: Ticket
    language: str
    agent: str | None  # who holds it (display name), if anyone
    customer: str | None  # the linked customer's name, if any


async def open_tickets(session: AsyncSession, limit: int = 500) -> list[OpenTicket]:
    """Every open ticket, waiting or held by anyone, in queue order."""
    rows = await session.execute(
        select(Ticket, Conversation.language, User.display_name, Customer.name)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .outerjoin(User, User.id == Ticket.agent_id)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Ticket.status != TicketStatus.CLOSED)
        .order_by(*QUEUE_ORDER)
        .limit(limit)
    )
    return [OpenTicket(*row) for row in rows]


def _callback(request: CallbackRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    return {
        "id": request.id,
        "name": request.name,
        "email": request.email,
        "phone": request.phone,
        "note": request.note,
        "requested_at": request.created_at.isoformat(),
    }


async def positions(session: AsyncSession) -> dict[str, int]:
    """Each waiting conversation's place in the queue, 1 = next to be claimed."""
    order = await session.scalars(
        select(Ticket.conversation_id)
        .where(Ticket.status == TicketStatus.WAITING)
        .order_by(*QUEUE_ORDER)
    )
    return {conversation_id: place for place, conversation_id in enumerate(order, start=1)}


async def open_handoff(
    work: Work,
    conversation_id: str,
    brief: dict[str, Any],
    *,
    actor: str,
    policy_version: int | None,
) -> Ticket | None:
    """Queue the conversation for a person and open its ticket; None if it already left the bot.

    The conditional move decides: a second handoff for the same conversation changes no row and
    opens no second ticket (N2, N5).
    """
    reason = str(brief.get("reason") or "unknown")[:32]
    priority = "high" if brief.get("priority") == "high" else "normal"
    # The bot knows the language the customer writes in (the brief's, from the messages); the
    # page's may differ. The desk routes and the service speaks by the conversation's, and the
    # widget switches its own words to it with this frame.
    language = brief.get("language")
    if not (isinstance(language, str) and LANGUAGE_CODE.fullmatch(language)):
        language = None
    moved = await move(
        work,
        conversation_id,
        Mode.BOT,
        Mode.QUEUED,
        "handoff",
        actor,
        frame={"reason": reason, "priority": priority}
        | ({"language": language} if language else {}),
        policy_version=policy_version,
        reason=reason,
        priority=priority,
    )
    if not moved:
        return None
    ticket = Ticket(
        conversation_id=conversation_id,
        status=TicketStatus.WAITING,
        reason=reason,
        priority=priority,
        brief=brief,
    )
    work.session.add(ticket)
    if language:
        await work.session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(language=language)
        )
    await work.session.flush()
    return ticket


async def average_handle_seconds(session: AsyncSession, default: int, sample: int = 50) -> int:
    """How long a person took over the last `sample` conversations (claim to close)."""
    rows = list(
        await session.execute(
            select(Ticket.claimed_at, Ticket.closed_at)
            .where(Ticket.claimed_at.is_not(None), Ticket.closed_at.is_not(None))
            .order_by(Ticket.closed_at.desc())
            .limit(sample)
        )
    )
    if len(rows) < 5:
        return default
    total = sum(
        (closed - claimed).total_seconds() for claimed, closed in rows if claimed and closed
    )
    return max(30, int(total / len(rows)))


async def _check_capacity(session: AsyncSession, agent: User, mine: str = "you") -> None:
    """Refuse a conversation beyond the agent's limit. Locks the agent's row first, so two
    claims or transfers to the same agent cannot both pass the limit."""
    if agent.role not in DESK_ROLES:
        raise Forbidden(f"a {agent.role} does not take conversations")
    await session.execute(select(User.id).where(User.id == agent.id).with_for_update())
    held = await session.scalar(
        select(func.count()).where(
            Ticket.agent_id == agent.id, Ticket.status == TicketStatus.ASSIGNED
        )
    )
    if (held or 0) >= agent.max_concurrent:
        raise QueueError(
            f"{mine} already {'have' if mine == 'you' else 'has'} {held} conversations open "
            f"(limit {agent.max_concurrent})"
        )


async def claim(work: Work, ticket_id: int, agent: User, lease: timedelta) -> Ticket:
    """Exactly one claim wins: the database decides with a conditional UPDATE."""
    session, now = work.session, work.now
    await _check_capacity(session, agent)
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
    if not await move(
        work,
        ticket.conversation_id,
        Mode.QUEUED,
        Mode.ASSIGNED,
        "claimed",
        agent.username,
        frame={"agent": agent.display_name},
        ticket=ticket_id,
    ):
        raise QueueError("this conversation is no longer waiting for a person")
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


async def renew_lease(
    session: AsyncSession, ticket: Ticket, lease: timedelta, now: datetime
) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.ASSIGNED)
        .values(lease_expires_at=now + lease)
    )


async def heartbeat(
    session: AsyncSession, ticket_id: int, agent: User, lease: timedelta, now: datetime
) -> None:
    """The agent is still there: their claim's lease starts again."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.agent_id != agent.id:
        raise Forbidden("this ticket is not yours")
    await renew_lease(session, ticket, lease, now)


async def reply(
    session: AsyncSession,
    conversation_id: str,
    agent: User,
    text: str,
    lease: timedelta,
    now: datetime,
) -> StoredMessage:
    ticket = await owned_ticket(session, conversation_id, agent)
    if ticket.status != TicketStatus.ASSIGNED:
        raise QueueError("claim the conversation before replying")
    await renew_lease(session, ticket, lease, now)
    return await add_message(
        session, conversation_id, Role.AGENT, text, payload={"agent": agent.display_name}
    )


async def _close(work: Work, ticket: Ticket, actor: str, to_mode: Mode, wrap_up: str) -> None:
    from_mode = Mode.ASSIGNED if ticket.status == TicketStatus.ASSIGNED else Mode.QUEUED
    closed = await work.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == ticket.status)
        .values(status=TicketStatus.CLOSED, closed_at=work.now, wrap_up=wrap_up)
    )
    if closed.rowcount != 1 or not await move(  # type: ignore[attr-defined]
        work, ticket.conversation_id, from_mode, to_mode, "closed", actor, wrap_up=wrap_up
    ):
        raise QueueError("this conversation was closed or returned already")
    await work.session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.conversation_id == ticket.conversation_id,
            CallbackRequest.status == CallbackStatus.OPEN,
        )
        .values(status=CallbackStatus.DONE, done_at=work.now)
    )


def _check_wrap_up(wrap_up: str, allowed: tuple[str, ...]) -> None:
    if wrap_up not in allowed:
        raise QueueError(f"the wrap-up must be one of {', '.join(allowed)}")


async def return_to_bot(
    work: Work, conversation_id: str, user: User, outcome: str, wrap_ups: tuple[str, ...]
) -> None:
    """Hand the conversation back to the bot (which then welcomes the customer back)."""
    _check_wrap_up(outcome, wrap_ups)
    ticket = await owned_ticket(work.session, conversation_id, user)
    await _close(work, ticket, user.username, Mode.BOT, outcome)


async def resolve(
    work: Work,
    conversation_id: str,
    user: User,
    wrap_up: str,
    wrap_ups: tuple[str, ...],
    question: str,
    ends: list[str] | None = None,
    left: str | None = None,
) -> None:
    """Close with a wrap-up code, tell the customer the person has left (`left`, whose {name} is
    theirs) and ask the satisfaction question; `ends` are the words for the two ends of the
    scale, in the question's language."""
    _check_wrap_up(wrap_up, wrap_ups)
    ticket = await owned_ticket(work.session, conversation_id, user)
    if left:
        notice = left.replace("{name}", user.display_name)
        work.said(
            conversation_id, await add_message(work.session, conversation_id, Role.SYSTEM, notice)
        )
    payload: dict[str, Any] = {"survey": "csat", "scale": [1, 2, 3, 4, 5]}
    if ends:
        payload["scale_ends"] = ends
    asked = await add_message(work.session, conversation_id, Role.SYSTEM, question, payload=payload)
    work.said(conversation_id, asked)
    await _close(work, ticket, user.username, Mode.CLOSED, wrap_up)


async def customer_back_to_bot(work: Work, conversation_id: str, notice: str) -> None:
    """The customer stops waiting and goes back to the bot (only while nobody has claimed it)."""
    ticket = await work.session.scalar(
        select(Ticket).where(
            Ticket.conversation_id == conversation_id, Ticket.status == TicketStatus.WAITING
        )
    )
    if ticket is None:
        raise QueueError("a person has already taken this conversation, or it is not waiting")
    await _close(work, ticket, "customer", Mode.BOT, "customer_back_to_bot")
    work.said(
        conversation_id, await add_message(work.session, conversation_id, Role.SYSTEM, notice)
    )


async def transfer_to_agent(
    work: Work,
    conversation_id: str,
    user: User,
    target: User,
    lease: timedelta,
    notice: str,
) -> None:
    """Give an assigned conversation to another person, who must have room for it. The mode
    stays `assigned`: only the claim changes hands."""
    session = work.session
    if not target.active:
        raise QueueError(f"{target.display_name} is not an active desk user")
    ticket = await owned_ticket(session, conversation_id, user)
    if ticket.agent_id == target.id:
        raise QueueError(f"{target.display_name} already has this conversation")
    await _check_capacity(session, target, target.display_name)
    giver = ticket.agent_id  # read first: the update below refreshes the loaded ticket
    moved = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.ASSIGNED)
        .values(agent_id=target.id, claimed_at=work.now, lease_expires_at=work.now + lease)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise QueueError("only a claimed conversation can be given to another person")
    session.add(
        event(
            conversation_id,
            "transferred",
            user.username,
            Mode.ASSIGNED,
            Mode.ASSIGNED,
            to_agent=target.username,
            ticket=ticket.id,
        )
    )
    if giver is not None:
        work.detach(conversation_id, giver)
    work.said(conversation_id, await add_message(session, conversation_id, Role.SYSTEM, notice))
    work.publish(conversation_id, mode_frame(Mode.ASSIGNED, agent=target.display_name))
    work.queue_changed = True


async def transfer_to_team(
    work: Work,
    conversation_id: str,
    user: User,
    team: str,
    teams: tuple[str, ...],
    notice: str,
) -> None:
    """Put an assigned conversation back in the queue, marked for a team."""
    if team not in teams:
        raise QueueError(f"the team must be one of {', '.join(teams)}")
    ticket = await owned_ticket(work.session, conversation_id, user)
    giver = ticket.agent_id  # read first: the update below refreshes the loaded ticket
    moved = await work.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.ASSIGNED)
        .values(
            status=TicketStatus.WAITING,
            team=team,
            agent_id=None,
            claimed_at=None,
            lease_expires_at=None,
        )
    )
    if moved.rowcount != 1 or not await move(  # type: ignore[attr-defined]
        work,
        conversation_id,
        Mode.ASSIGNED,
        Mode.QUEUED,
        "transferred",
        user.username,
        to_team=team,
        ticket=ticket.id,
    ):
        raise QueueError("only a claimed conversation can be transferred to a team")
    if giver is not None:
        work.detach(conversation_id, giver)
    work.said(
        conversation_id, await add_message(work.session, conversation_id, Role.SYSTEM, notice)
    )


async def escalate(
    session: AsyncSession, conversation_id: str, user: User, note: str, now: datetime
) -> Ticket:
    """Ask a supervisor to look at (and perhaps join) this conversation."""
    if not note.strip() or len(note) > 500:
        raise QueueError("say why, in up to 500 characters")
    ticket = await owned_ticket(session, conversation_id, user)
    done = await session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status != TicketStatus.CLOSED,
            Ticket.escalated_at.is_(None),
        )
        .values(escalated_at=now, escalation_note=note)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise QueueError("this conversation is escalated already")
    session.add(
        event(conversation_id, "escalated", user.username, None, None, note=note, ticket=ticket.id)
    )
    return ticket


async def join(work: Work, conversation_id: str, supervisor: User, notice: str) -> None:
    """A supervisor joins a conversation: the customer is told, and the supervisor may write."""
    if supervisor.role != StaffRole.SUPERVISOR:
        raise Forbidden("only supervisors may join a conversation")
    ticket = await owned_ticket(work.session, conversation_id, supervisor)
    work.session.add(
        event(conversation_id, "joined", supervisor.username, None, None, ticket=ticket.id)
    )
    work.said(
        conversation_id, await add_message(work.session, conversation_id, Role.SYSTEM, notice)
    )


async def add_note(session: AsyncSession, conversation_id: str, user: User, text: str) -> Note:
    if not text.strip() or len(text) > 4000:
        raise QueueError("a note must be 1-4000 characters")
    await owned_ticket(session, conversation_id, user)
    note = Note(conversation_id=conversation_id, author_id=user.id, text=text)
    session.add(note)
    await session.flush()
    return note


async def notes_of(session: AsyncSession, conversation_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Note, User.display_name)
        .join(User, User.id == Note.author_id)
        .where(Note.conversation_id == conversation_id)
        .order_by(Note.created_at, Note.id)
    )
    return [
        {
            "id": note.id,
            "author": name,
            "text": note.text,
            "created_at": note.created_at.isoformat(),
        }
        for note, name in rows
    ]


async def events_of(session: AsyncSession, conversation_id: str) -> list[Event]:
    """The conversation's event rows (mode changes, grants, links...), oldest first."""
    return list(
        await session.scalars(
            select(Event).where(Event.conversation_id == conversation_id).order_by(Event.id)
        )
    )


async def release_agent(work: Work, user: User) -> list[str]:
    """On sign-out or deactivation: the agent's conversations go back to the queue."""
    held = list(
        await work.session.scalars(
            select(Ticket).where(Ticket.agent_id == user.id, Ticket.status == TicketStatus.ASSIGNED)
        )
    )
    return [
        ticket.conversation_id
        for ticket in held
        if await _requeue(work, ticket, user.username, "released")
    ]


async def _requeue(
    work: Work,
    ticket: Ticket,
    actor: str,
    kind: str,
    expired_before: datetime | None = None,
) -> bool:
    """Back to the queue, unless the claim changed hands (or, for `expired_before`, was renewed)
    since the caller read it."""
    query = update(Ticket).where(
        Ticket.id == ticket.id,
        Ticket.status == TicketStatus.ASSIGNED,
        Ticket.agent_id == ticket.agent_id,
    )
    if expired_before is not None:
        query = query.where(Ticket.lease_expires_at < expired_before)
    holder = ticket.agent_id  # read first: the update below refreshes the loaded ticket
    done = await work.session.execute(
        query.values(
            status=TicketStatus.WAITING, agent_id=None, claimed_at=None, lease_expires_at=None
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if not await move(
        work, ticket.conversation_id, Mode.ASSIGNED, Mode.QUEUED, kind, actor, ticket=ticket.id
    ):
        # an assigned ticket whose conversation is not assigned: never leave the two apart
        raise QueueError(f"conversation {ticket.conversation_id} was not with a person")
    if holder is not None:
        work.detach(ticket.conversation_id, holder)
    return True


async def release_expired_leases(work: Work) -> list[str]:
    """Claimed tickets whose agent went silent (their lease ended before `work.now`) go back to
    the queue; returns their conversations."""
    now = work.now
    expired = list(
        await work.session.scalars(
            select(Ticket).where(
                Ticket.status == TicketStatus.ASSIGNED, Ticket.lease_expires_at < now
            )
        )
    )
    return [
        ticket.conversation_id
        for ticket in expired
        if await _requeue(work, ticket, "system", "lease_expired", expired_before=now)
    ]


async def announce(
    session: AsyncSession, conversation_id: str, template: str, person: User
) -> StoredMessage:
    """Tell the customer who has joined (the template's {name} is the person's display name)."""
    return await add_message(
        session,
        conversation_id,
        Role.SYSTEM,
        template.replace("{name}", person.display_name),
        payload={"agent": person.display_name},
    )
