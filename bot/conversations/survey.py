"""The customer's one-question satisfaction score. Data functions take a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.messages import get_conversation
from bot.db.models import Event, Satisfaction
from bot.errors import Invalid

SCALE = range(1, 6)


class InvalidScore(Invalid):
    pass


async def record(session: AsyncSession, conversation_id: str, score: int) -> bool:
    """Store the score; False if this conversation was rated already (the first answer stands)."""
    if score not in SCALE:
        raise InvalidScore(f"the score must be a whole number from {SCALE[0]} to {SCALE[-1]}")
    await get_conversation(session, conversation_id)
    person = await session.scalar(
        select(exists().where(Event.conversation_id == conversation_id, Event.kind == "claimed"))
    )
    try:
        async with session.begin_nested():
            session.add(
                Satisfaction(
                    conversation_id=conversation_id,
                    score=score,
                    handled_by="agent" if person else "bot",
                )
            )
    except IntegrityError:
        return False
    return True


async def by_handler(
    session: AsyncSession, since: datetime, until: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """The average score and how many answered, for the bot's and for people's conversations."""
    query = select(Satisfaction.handled_by, func.avg(Satisfaction.score), func.count()).where(
        Satisfaction.created_at >= since
    )
    if until is not None:
        query = query.where(Satisfaction.created_at < until)
    rows = await session.execute(query.group_by(Satisfaction.handled_by))
    return {
        handled_by: {"average": round(float(average), 2), "answers": int(answers)}
        for handled_by, average, answers in sorted(rows.all())
    }
