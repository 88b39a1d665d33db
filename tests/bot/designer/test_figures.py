"""The figures both designer pages show, defined once (bot/designer/figures.py): the period in
the desk's calendar, and which conversations and handoffs count, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient

from bot.db.models import Conversation, Message, Role, Ticket
from bot.designer import insights
from bot.designer.figures import inbox_figures, last_days
from bot.designer.inbox import Item
from bot.services import SERVICES

NEW_YORK = ZoneInfo("America/New_York")
# 23:30 in New York on Dec 2 is already Dec 3 in UTC: the days are the desk's
NOW = datetime(2026, 12, 3, 4, 30, tzinfo=UTC)


def test_the_period_is_the_last_days_of_the_desks_calendar() -> None:
    period = last_days(7, NOW, NEW_YORK)
    assert period.since == datetime(2026, 11, 26, tzinfo=NEW_YORK)
    assert period.until == NOW + timedelta(seconds=1)
    assert period.all_days() == [f"2026-11-{d}" for d in range(26, 31)] + [
        "2026-12-01",
        "2026-12-02",
    ]
    assert period.day(NOW) == "2026-12-02"
    assert last_days(1, NOW, NEW_YORK).all_days() == ["2026-12-02"]


def _item(conversation_id: str, text: str, at: datetime) -> Item:
    return Item(f"k-{conversation_id}-{text}", conversation_id, text, at.isoformat(), ["x"])


async def _history(session: Any) -> None:
    def conversation(cid: str, created: datetime) -> None:
        session.add(Conversation(id=cid, mode="closed", created_at=created, last_seq=1))

    def wrote(cid: str, seq: int, at: datetime) -> None:
        session.add(Message(conversation_id=cid, seq=seq, role=Role.CUSTOMER, text="hi",
                            created_at=at))  # fmt: skip

    def handed(cid: str, at: datetime, reason: str = "frustration") -> None:
        session.add(Ticket(conversation_id=cid, status="closed", reason=reason,
                           brief={"version": 1, "reason": reason}, created_at=at,
                           closed_at=at + timedelta(minutes=5)))  # fmt: skip

    today = NOW - timedelta(hours=2)
    # started long before the period, written in today, handed over, back to the bot, over again
    conversation("again", NOW - timedelta(days=40))
    wrote("again", 1, today)
    handed("again", today + timedelta(minutes=1))
    handed("again", today + timedelta(minutes=30), "explicit_request")
    # written in during the period, answered by the bot alone
    conversation("bot-only", NOW - timedelta(days=3))
    wrote("bot-only", 1, NOW - timedelta(days=3))
    # only before the period: not counted
    conversation("old", NOW - timedelta(days=20))
    wrote("old", 1, NOW - timedelta(days=20))
    await session.flush()


async def test_conversations_and_handoffs_of_a_period(client: TestClient) -> None:
    services = client.app[SERVICES]
    async with services.sessions.begin() as session:
        await _history(session)
    period = last_days(7, NOW, NEW_YORK)
    items = [_item("again", "where is my order", NOW - timedelta(hours=2))]
    async with services.sessions() as session:
        body = await insights.period(session, period, items)
    assert (body["conversations"], body["handed_over"], body["handoffs"]) == (2, 1, 2)
    assert body["containment"] == 0.5
    assert body["handoffs_by_reason"] == {"frustration": 1, "explicit_request": 1}
    # each conversation once, on its first day in the period: the days add up to the whole
    assert sum(d["conversations"] for d in body["days"]) == body["conversations"]
    assert [d["day"] for d in body["days"]] == period.all_days()
    assert body["timezone"] == "America/New_York"


async def test_a_message_worth_a_look_counts_its_conversation(client: TestClient) -> None:
    """The designer's messages come from conversations Insights counts, whatever Rasa's tracker
    holds that the service's own rows do not show in the period."""
    period = last_days(7, NOW, NEW_YORK)
    items = [
        _item("tracker-only", "do you price match", NOW - timedelta(days=1)),
        _item("tracker-only", "price match chewy", NOW - timedelta(days=1)),
    ]
    async with client.app[SERVICES].sessions() as session:
        body = await insights.period(session, period, items)
    assert body["conversations"] == inbox_figures(items, [])["conversations"] == 1
    assert inbox_figures(items, [{"id": "g"}]) == {"messages": 2, "groups": 1, "conversations": 1}
