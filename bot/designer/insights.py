"""Figures over a period, from the service's database: how much the bot handles alone, why
people were handed over, how frustration and satisfaction move, and when customers write. What
a conversation, a handoff and the period are is figures.py's to say."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.survey import by_handler
from bot.db.models import Message, Role
from bot.designer.figures import Period, conversations
from bot.designer.inbox import Item


async def period(
    session: AsyncSession, period: Period, items: Sequence[Item] = ()
) -> dict[str, Any]:
    """The period's figures (bot/designer/figures.py defines them); days and hours are the
    desk's local time. `items`: the period's messages worth a look, which count as activity."""
    found = await conversations(session, period, items)
    handed = found.handed_over
    per_day: dict[str, dict[str, Any]] = {
        day: {"conversations": 0, "handed_over": 0, "frustration": 0, "scores": []}
        for day in period.all_days()
    }
    for cid, day in found.first_day.items():
        if day in per_day:
            per_day[day]["conversations"] += 1
            per_day[day]["handed_over"] += cid in handed
    for ticket in found.tickets:
        that_day = per_day.get(period.day(ticket.created_at))
        if that_day is None:
            continue
        that_day["frustration"] += ticket.reason == "frustration"
        score = ticket.brief.get("frustration_score")
        if isinstance(score, int | float):
            that_day["scores"].append(score)
    days = [
        {
            "day": day,
            "conversations": v["conversations"],
            "containment": 1 - v["handed_over"] / v["conversations"]
            if v["conversations"]
            else None,
            "frustration_handoffs": v["frustration"],
            "mean_frustration_score": sum(v["scores"]) / len(v["scores"]) if v["scores"] else None,
        }
        for day, v in per_day.items()
    ]
    hours: Counter[int] = Counter(
        created.astimezone(period.zone).hour
        for created in await session.scalars(
            select(Message.created_at).where(
                Message.role == Role.CUSTOMER,
                Message.created_at >= period.since,
                Message.created_at < period.until,
            )
        )
    )
    return (
        period.as_dict()
        | found.as_dict()
        | {
            "handoffs_by_reason": dict(Counter(t.reason for t in found.tickets).most_common()),
            "days": days,
            "satisfaction": await by_handler(session, period.since, period.until),
            "messages_by_hour": [hours.get(h, 0) for h in range(24)],
        }
    )
