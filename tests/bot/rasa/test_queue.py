"""Customer messages wait their turn for Rasa in the service (RASA_MAX_IN_FLIGHT), first come
first served, within RASA_TIMEOUT_SECONDS (bot/rasa/turn.py, BotTurns._ask_rasa)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.db.models import Ticket
from bot.rasa.turn import TURNS
from bot.services import SERVICES
from bot.settings import SettingsError
from tests.bot.conftest import FakeRasa, settings_for
from tests.bot.helpers import send, start, texts, wait_for


class SlowRasa:
    """Answers every message after `seconds`, counting how many it holds at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.now = self.most = 0
        self.order: list[str] = []

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.now += 1
        self.most = max(self.most, self.now)
        self.order.append(body["message"])
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.now -= 1
        return web.json_response([{"recipient_id": body["sender"], "text": "ok"}])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/health", FakeRasa().health)  # the action server's /health
        app.router.add_get("/status", FakeRasa().status)
        return app


@pytest.fixture
async def slow_rasa() -> AsyncIterator[tuple[SlowRasa, int]]:
    fake = SlowRasa(0.2)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, int(server.port or 0)
    await server.close()


async def test_at_most_max_in_flight_reach_rasa_and_the_others_wait_their_turn(
    aiohttp_client: Any, database_url: str, slow_rasa: tuple[SlowRasa, int]
) -> None:
    fake, port = slow_rasa
    settings = settings_for(database_url, port, RASA_MAX_IN_FLIGHT="2", RASA_TIMEOUT_SECONDS="5")
    client: TestClient = await aiohttp_client(create_app(settings))
    conversations = [await start(client) for _ in range(6)]
    for i, (cid, auth) in enumerate(conversations):
        assert (await send(client, cid, auth, f"question {i}", "m1")).status == 201
    for cid, auth in conversations:
        assert texts(await wait_for(client, cid, auth, 2), "bot") == ["ok"]
    assert fake.most == 2
    assert sorted(fake.order) == [f"question {i}" for i in range(6)]  # each once


async def test_a_message_that_waits_past_the_timeout_goes_to_a_person_not_to_rasa(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    client.app[TURNS]._rasa_slots = asyncio.Semaphore(1)  # as RASA_MAX_IN_FLIGHT=1
    first, first_auth = await start(client)
    second, second_auth = await start(client)
    await send(client, first, first_auth, "please hang", "m1")  # holds the one turn until 2 s
    await asyncio.sleep(0.1)
    await send(client, second, second_auth, "how much is shipping", "m1")
    body = await wait_for(client, second, second_auth, 2)
    assert body["mode"] == "queued"
    assert [r["message"] for r in fake_rasa[0].received] == ["please hang"]
    async with client.app[SERVICES].sessions() as session:
        ticket = await session.scalar(select(Ticket).filter_by(conversation_id=second))
    assert ticket is not None and ticket.reason == "bot_unavailable"
    assert "the bot is busy" in ticket.brief["summary"]


async def test_slow_answers_lately_never_keep_a_message_that_did_not_wait_from_rasa(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    client.app[TURNS]._rasa_seconds = 100.0  # as if Rasa had been very slow
    cid, auth = await start(client)
    await send(client, cid, auth, "how much is shipping", "m1")
    assert texts(await wait_for(client, cid, auth, 2), "bot") == ["echo: how much is shipping"]
    assert client.app[TURNS]._rasa_seconds < 100.0  # and the average comes down again


def test_max_in_flight_is_at_least_one() -> None:
    with pytest.raises(SettingsError, match="RASA_MAX_IN_FLIGHT=0: expected 1 or more"):
        settings_for("sqlite+aiosqlite:///unused.db", 1, RASA_MAX_IN_FLIGHT="0")
    assert settings_for("sqlite+aiosqlite:///unused.db", 1).rasa_max_in_flight == 16
