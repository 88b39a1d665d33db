"""Figures over a period, from the service's database: how much the bot handles alone, why
people were handed over, how frustration and satisfaction move, and when customers write."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.survey import by_handler
from bot.db.models import Conversation, Message, Role, Ticket


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).date().isoformat()


async def period(
    session: AsyncSession, since: datetime, until: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """Days and hours are the desk's local time (policy.yml desk.hours.timezone)."""
    conversations = list(
        await session.execute(
            select(Conversation.id, Conversation.created_at).where(
                Conversation.created_at >= since, Conversation.created_at < until
            )
        )
    )
    ids = {cid for cid, _ in conversations}
    tickets = [
        t
        for t in await session.scalars(
            select(Ticket).where(Ticket.created_at >= since, Ticket.created_at < until)
        )
    ]
    handed = {t.conversation_id for t in tickets}

    def empty() -> dict[str, Any]:
        return {"conversations": 0, "handed_over": 0, "frustration_scores": []}

    per_day: dict[str, dict[str, Any]] = defaultdict(empty)
    for cid, created in conversations:
        day = per_day[_day(created, zone)]
        day["conversations"] += 1
        day["handed_over"] += cid in handed
    for ticket in tickets:
        score = ticket.brief.get("frustration_score")
        if isinstance(score, int | float):
            per_day[_day(ticket.created_at, zone)]["frustration_scores"].append(score)
    # every day of the period, quiet ones too, so charts have no gaps
    first, last = since.astimezone(zone).date(), until.astimezone(zone).date()
    for offset in range((last - first).days + 1):
        per_day.setdefault((first + timedelta(days=offset)).isoformat(), empty())
    days = [
        {
            "day": day,
            "conversations": v["conversations"],
            "containment": 1 - v["handed_over"] / v["conversations"]
            if v["conversations"]
            else None,
            "frustration_handoffs": sum(
                1 for t in tickets if t.reason == "frustration" and _day(t.created_at, zone) == day
            ),
            "mean_frustration_score": (
                sum(v["frustration_scores"]) / len(v["frustration_scores"])
                if v["frustration_scores"]
                else None
            ),
        }
        for day, v in sorted(per_day.items())
    ]
    hours: Counter[int] = Counter(
        created.astimezone(zone).hour
        for created in await session.scalars(
            select(Message.created_at).where(
                Message.role == Role.CUSTOMER,
                Message.created_at >= since,
                Message.created_at < until,
            )
        )
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "timezone": str(zone),  # of the days and hours below
        "conversations": len(ids),
        "containment": 1 - len(handed & ids) / len(ids) if ids else None,
        "handoffs_by_reason": dict(Counter(t.reason for t in tickets).most_common()),
        "days": days,
        "satisfaction": await by_handler(session, since, until),
        "messages_by_hour": [hours.get(h, 0) for h in range(24)],
    }
