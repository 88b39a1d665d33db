"""Satisfaction scores: the first answer stands, and the figures split the bot's conversations
from those a person took, over exactly the period asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.conversations import survey
from bot.conversations.lifecycle import start as start_conversation
from bot.conversations.messages import event
from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import Satisfaction, utcnow


async def test_scores_by_handler_over_a_period(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine).begin() as session:
            rated = []
            for score, person in ((5, False), (4, False), (2, True), (3, True), (1, True)):
                conversation = await start_conversation(session, language="en", customer_id=None)
                if person:
                    session.add(event(conversation.id, "claimed", "ana"))
                await session.flush()
                assert await survey.record(session, conversation.id, score)
                rated.append(conversation.id)
            assert not await survey.record(session, rated[0], 1)  # the first answer stands
            with pytest.raises(survey.InvalidScore):
                await survey.record(session, rated[1], 6)
            now = utcnow()
            last = await session.get(Satisfaction, rated[-1])
            assert last is not None
            last.created_at = now - timedelta(days=3)  # outside the last day
            await session.flush()

            day = await survey.by_handler(session, now - timedelta(days=1))
            assert day == {
                "agent": {"average": 2.5, "answers": 2},
                "bot": {"average": 4.5, "answers": 2},
            }
            week = await survey.by_handler(session, now - timedelta(days=7))
            assert week["agent"] == {"average": 2.0, "answers": 3}
            earlier = await survey.by_handler(
                session, now - timedelta(days=7), now - timedelta(days=1)
            )
            assert earlier == {"agent": {"average": 1.0, "answers": 1}}
    finally:
        await engine.dispose()
