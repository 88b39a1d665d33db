"""Who is on the desk now, and whether a person can answer a customer at this moment.

Each desk socket refreshes its user's row every few seconds; a row older than ONLINE_WINDOW no
longer counts, so a crashed browser or replica drops out by itself. Data functions take a session.
"""

from __future__ import annotations

import enum
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Subquery, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actions.handoff.policy import DeskHours
from bot.db.models import AgentPresence, Ticket, TicketStatus, User, utcnow
from bot.desk.queue import DESK_ROLES

ONLINE_WINDOW = timedelta(seconds=60)
REFRESH_SECONDS = 20


class Availability(enum.StrEnum):
    OPEN = "open"
    OUT_OF_HOURS = "out_of_hours"
    NO_AGENTS_ONLINE = "no_agents_online"


async def touch(session: AsyncSession, user_id: int) -> None:
    seen = await session.execute(
        update(AgentPresence).where(AgentPresence.user_id == user_id).values(last_seen=utcnow())
    )
    if seen.rowcount:  # type: ignore[attr-defined]
        return
    try:
        async with session.begin_nested():
            session.add(AgentPresence(user_id=user_id, last_seen=utcnow()))
    except IntegrityError:
        pass  # another socket of the same user inserted it first: it is fresh either way


async def leave(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(AgentPresence).where(AgentPresence.user_id == user_id))


def _online(now: datetime | None) -> Subquery:
    """The desk users who take conversations and whose desk was seen within ONLINE_WINDOW."""
    since = (now or utcnow()) - ONLINE_WINDOW
    return (
        select(User.id, User.max_concurrent)
        .join(AgentPresence, AgentPresence.user_id == User.id)
        .where(AgentPresence.last_seen >= since, User.active, User.role.in_(DESK_ROLES))
        .subquery()
    )


async def online_agents(session: AsyncSession, now: datetime | None = None) -> int:
    count = await session.scalar(select(func.count()).select_from(_online(now)))
    return int(count or 0)


async def free_seats(session: AsyncSession, now: datetime | None = None) -> tuple[int, int]:
    """Seats of the agents online now (each takes up to max_concurrent conversations at once),
    and how many of them are free."""
    online = _online(now)
    seats = int(await session.scalar(select(func.sum(online.c.max_concurrent))) or 0)
    held = await session.scalar(
        select(func.count()).where(
            Ticket.status == TicketStatus.ASSIGNED, Ticket.agent_id.in_(select(online.c.id))
        )
    )
    return seats, max(0, seats - int(held or 0))


async def speakers_online(session: AsyncSession, now: datetime | None = None) -> Counter[str]:
    """How many people online who take conversations speak each language."""
    spoken: Counter[str] = Counter()
    for user, online in await colleagues(session, now):
        if online:
            spoken.update(user.spoken)
    return spoken


async def colleagues(session: AsyncSession, now: datetime | None = None) -> list[tuple[User, bool]]:
    """Active desk users who take conversations, by name, each with whether they are online."""
    since = (now or utcnow()) - ONLINE_WINDOW
    online = set(
        await session.scalars(select(AgentPresence.user_id).where(AgentPresence.last_seen >= since))
    )
    users = await session.scalars(
        select(User).where(User.active, User.role.in_(DESK_ROLES)).order_by(User.display_name)
    )
    return [(user, user.id in online) for user in users]


async def availability(
    session: AsyncSession, hours: DeskHours, now: datetime | None = None
) -> tuple[Availability, int]:
    """Whether a person can answer now, and how many agents are online. `now` is for the
    opening hours (tests move it); presence is always judged by the real clock."""
    online = await online_agents(session)
    if not hours.open_at(now or utcnow()):
        return Availability.OUT_OF_HOURS, online
    return (Availability.OPEN if online else Availability.NO_AGENTS_ONLINE), online
