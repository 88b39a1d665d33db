"""Two service processes on one PostgreSQL and one Redis: the customer on one replica, the agent on
the other, and the conversation works live both ways (Rasa is the scripted stand-in)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.channel import identity
from tests.bot.conftest import FakeRasa
from tests.bot.helpers import PASSWORD
from tests.bot.processes import run_command, service_env, start_service, stop
from tests.e2e.conftest import free_port


@pytest.fixture
async def replicas(
    database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> AsyncIterator[tuple[list[int], dict[str, str]]]:
    redis = os.environ.get("TEST_REDIS_URL")
    if not redis:
        pytest.skip("TEST_REDIS_URL not set: the Redis fan-out between replicas is not tested")
    ports = [free_port(), free_port()]
    origins = ",".join(f"http://127.0.0.1:{p}" for p in ports)
    env = service_env(database_url, fake_rasa[1], REDIS_URL=redis, ALLOWED_ORIGINS=origins)
    code, output = await run_command(
        env, "users", "create", "--username", "ana", "--role", "agent", "--name", "Ana",
        "--password-stdin", stdin=f"{PASSWORD}\n".encode(),
    )  # fmt: skip
    assert code == 0, output
    processes = []
    try:
        for port in ports:
            processes.append(await start_service(env, port))
        yield ports, env
    finally:
        for process in processes:
            await stop(process)


async def next_frame(ws: aiohttp.ClientWebSocketResponse, **match: Any) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=10)
        if all(frame.get(k) == v for k, v in match.items()):
            return frame


@pytest.fixture
async def http() -> AsyncIterator[tuple[aiohttp.ClientSession, aiohttp.ClientSession]]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession() as customer, aiohttp.ClientSession(cookie_jar=jar) as desk:
        yield customer, desk


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # replicas share one
async def test_customer_on_one_replica_and_agent_on_another_talk_live(
    replicas: tuple[list[int], dict[str, str]],
    http: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
) -> None:
    (a, b), env = replicas
    customer, desk = http
    started = await (
        await customer.post(
            f"http://127.0.0.1:{a}/api/conversations",
            json={"customer": identity.sign(env["CUSTOMER_IDENTITY_SECRET"], "C1001")},
        )
    ).json()
    cid = started["conversation_id"]
    login = await desk.post(
        f"http://127.0.0.1:{b}/desk/api/login", json={"username": "ana", "password": PASSWORD}
    )
    csrf = {"X-CSRF-Token": (await login.json())["csrf_token"]}
    async with customer.ws_connect(f"http://127.0.0.1:{a}/api/conversations/{cid}/ws") as cws, \
            desk.ws_connect(f"http://127.0.0.1:{b}/desk/ws") as dws:  # fmt: skip
        await cws.send_json({"type": "hello", "token": started["token"]})
        await next_frame(cws, type="mode")
        await next_frame(dws, type="queue")  # B announces the agent's own arrival
        await cws.send_json({"type": "message", "client_msg_id": "m1", "text": "hand me over"})
        await next_frame(cws, type="mode", mode="queued")
        await next_frame(dws, type="queue")  # the handoff on replica A reaches the desk on B
        queue = await (await desk.get(f"http://127.0.0.1:{b}/desk/api/queue")).json()
        [ticket] = queue["waiting"]
        claim = await desk.post(
            f"http://127.0.0.1:{b}/desk/api/tickets/{ticket['ticket_id']}/claim", headers=csrf
        )
        assert claim.status == 200
        assert (await next_frame(cws, type="mode", mode="assigned"))["agent"] == "Ana"
        await desk.post(
            f"http://127.0.0.1:{b}/desk/api/conversations/{cid}/messages",
            json={"text": "Hi, Ana here."}, headers=csrf,
        )  # fmt: skip
        assert (await next_frame(cws, type="message", role="agent"))["text"] == "Hi, Ana here."
        await dws.send_json({"watch": cid})
        await next_frame(dws, type="watching")
        await cws.send_json({"type": "message", "client_msg_id": "m2", "text": "thanks Ana"})
        heard = await next_frame(dws, type="message", role="customer")
        assert (heard["conversation_id"], heard["text"]) == (cid, "thanks Ana")
