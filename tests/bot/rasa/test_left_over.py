"""A customer message whose turn was lost with the process that had it (acknowledged, then the
service died) is answered or handed over: on start-up, and when the client sends it again
(bot/rasa/turn.py answer_left_over; issue 18, item 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update

from bot.app import create_app
from bot.conversations.messages import add_message
from bot.db.models import Message, Role, utcnow
from bot.rasa.turn import TURNS
from bot.services import SERVICES
from tests.bot.conftest import FakeRasa, settings_for
from tests.bot.helpers import poll, send, start, texts, wait_until


async def _acknowledged_then_lost(
    client: TestClient, cid: str, text: str, mid: str, age: timedelta = timedelta(0)
) -> None:
    """What the database holds after the service acknowledged a message and died before its
    turn: the message, and nothing after it."""
    async with client.app[SERVICES].sessions.begin() as session:
        stored = await add_message(session, cid, Role.CUSTOMER, text, client_msg_id=mid)
        await session.execute(
            update(Message).where(Message.id == stored.id).values(created_at=utcnow() - age)
        )


async def test_a_message_left_unanswered_is_answered_when_the_service_starts_again(
    client: TestClient, aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> None:
    cid, auth = await start(client)
    await _acknowledged_then_lost(client, cid, "where is my parcel", "m1")
    restarted = await aiohttp_client(create_app(settings_for(database_url, fake_rasa[1])))
    deadline = restarted.app[TURNS].turn_deadline.total_seconds()
    body = await wait_until(client, cid, auth, lambda b: texts(b, "bot"), timeout=deadline + 5)
    assert texts(body, "bot") == ["echo: where is my parcel"]
    assert body["mode"] == "bot"


async def test_a_resent_message_whose_turn_was_lost_is_answered(client: TestClient) -> None:
    cid, auth = await start(client)
    turns = client.app[TURNS]
    await _acknowledged_then_lost(client, cid, "where is my parcel", "m1", turns.turn_deadline)
    again = await send(client, cid, auth, "where is my parcel", "m1")
    assert again.status == 200  # the stored message, not a second one
    body = await wait_until(client, cid, auth, lambda b: texts(b, "bot"))
    assert texts(body) == ["where is my parcel", "echo: where is my parcel"]
    await send(client, cid, auth, "where is my parcel", "m1")  # answered now: no second answer
    await turns.drain()
    assert texts(await poll(client, cid, auth), "bot") == ["echo: where is my parcel"]


async def test_a_left_over_message_the_bot_cannot_answer_is_handed_over(
    client: TestClient,
) -> None:
    cid, auth = await start(client)
    await _acknowledged_then_lost(client, cid, "please fail", "m1", timedelta(minutes=1))
    assert await client.app[TURNS].answer_left_over() == 1
    body = await wait_until(client, cid, auth, lambda b: b["mode"] == "queued")
    assert body["mode"] == "queued"


async def test_a_resend_while_its_turn_is_still_running_is_not_answered_twice(
    client: TestClient,
) -> None:
    cid, auth = await start(client)
    first = await send(client, cid, auth, "how much is shipping", "m1")
    assert first.status == 201
    for _ in range(3):
        await send(client, cid, auth, "how much is shipping", "m1")
    await client.app[TURNS].drain()
    assert texts(await poll(client, cid, auth), "bot") == ["echo: how much is shipping"]
