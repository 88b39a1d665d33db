"""The figures the designer's page and Insights both show, each defined once, here.

- The period: the last N days of the desk's calendar (policy.yml desk.hours.timezone), from
  local midnight N-1 days ago until now; both pages and the command line read the same days.
- Messages: the designer's inbox for the period (messages worth a look), and groups: those
  messages grouped (loop.grouped); the conversations they come from.
- Conversations: those active in the period: a customer wrote in it, a handoff was opened in it,
  or it holds one of the period's messages worth a look. A conversation counts once, on the local
  day it was first active in the period.
- Handed over: the conversations of the period with a handoff opened in it; handoffs: the
  handoffs themselves. A conversation handed back to the bot and over again has two, so handoffs
  can outnumber conversations, never handed over conversations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Message, Role, Ticket
from bot.designer.inbox import Item


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime
    zone: ZoneInfo
    days: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": str(self.zone),  # of the days and hours
            "day_count": self.days,  # (Insights lists the days themselves as "days")
        }

    def day(self, moment: datetime) -> str:
        """The desk's local day of `moment`."""
        return moment.astimezone(self.zone).date().isoformat()

    def all_days(self) -> list[str]:
        first = self.since.astimezone(self.zone).date()
        return [(first + timedelta(days=n)).isoformat() for n in range(self.days)]


def last_days(days: int, now: datetime, zone: ZoneInfo) -> Period:
    """Today and the `days - 1` days before it, in the desk's time zone, until `now` (and a
    second, so a message stored this instant is in)."""
    first = now.astimezone(zone).date() - timedelta(days=days - 1)
    return Period(datetime.combine(first, time(), zone), now + timedelta(seconds=1), zone, days)


def inbox_figures(items: Sequence[Item], groups: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Messages worth a look, their groups, and the conversations they come from."""
    return {
        "messages": len(items),
        "groups": len(groups),
        "conversations": len({i.conversation_id for i in items}),
    }


@dataclass(frozen=True)
class Conversations:
    """The period's conversations (id -> the local day first active) and handoffs."""

    first_day: dict[str, str]
    tickets: list[Ticket]

    @property
    def handed_over(self) -> set[str]:
        return {t.conversation_id for t in self.tickets}

    def as_dict(self) -> dict[str, Any]:
        count = len(self.first_day)
        handed = len(self.handed_over)
        return {
            "conversations": count,
            "handed_over": handed,
            "handoffs": len(self.tickets),
            "containment": 1 - handed / count if count else None,
        }


async def conversations(
    session: AsyncSession, period: Period, items: Sequence[Item] = ()
) -> Conversations:
    tickets = list(
        await session.scalars(
            select(Ticket)
            .where(Ticket.created_at >= period.since, Ticket.created_at < period.until)
            .order_by(Ticket.created_at, Ticket.id)
        )
    )
    wrote = await session.execute(
        select(Message.conversation_id, func.min(Message.created_at))
        .where(
            Message.role == Role.CUSTOMER,
            Message.created_at >= period.since,
            Message.created_at < period.until,
        )
        .group_by(Message.conversation_id)
    )
    first: dict[str, datetime] = {}
    moments = [(cid, at) for cid, at in wrote] + [
        (t.conversation_id, t.created_at) for t in tickets
    ]
    for cid, at in moments:
        if cid not in first or at < first[cid]:
            first[cid] = at
    for item in items:  # a message worth a look is the conversation's activity too
        if item.conversation_id not in first:
            first[item.conversation_id] = datetime.fromisoformat(item.at)
    return Conversations({cid: period.day(at) for cid, at in first.items()}, tickets)
