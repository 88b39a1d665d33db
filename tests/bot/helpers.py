"""What the service tests do over and over: a customer starts and writes, an agent signs in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.channel import identity
from bot.db.models import Ticket
from bot.desk.staff import create_user
from bot.ops.demo import seed
from bot.services import SERVICES

PASSWORD = "correct horse battery"
IDENTITY_SECRET = "c" * 40  # tests/bot/conftest.py settings_for


async def start(
    client: TestClient, customer: str | None = None, language: str = "en"
) -> tuple[str, dict[str, str]]:
    body: dict[str, Any] = {"language": language}
    if customer:
        body["customer"] = identity.sign(IDENTITY_SECRET, customer)
    response = await client.post("/api/conversations", json=body)
    assert response.status == 201, await response.text()
    started = await response.json()
    return started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}


async def send(client: TestClient, cid: str, auth: dict[str, str], text: str, mid: str) -> Any:
    return await client.post(
        f"/api/conversations/{cid}/messages",
        json={"client_msg_id": mid, "text": text},
        headers=auth,
    )


async def poll(client: TestClient, cid: str, auth: dict[str, str]) -> dict[str, Any]:
    response = await client.get(f"/api/conversations/{cid}/messages", headers=auth)
    body: dict[str, Any] = await response.json()
    return body


async def wait_until(
    client: TestClient,
    cid: str,
    auth: dict[str, str],
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 10,
) -> dict[str, Any]:
    """Poll until `done(body)` (the bot answers in the background); the last body either way."""
    deadline = time.monotonic() + timeout
    while True:
        body = await poll(client, cid, auth)
        if done(body) or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def wait_for(
    client: TestClient, cid: str, auth: dict[str, str], count: int
) -> dict[str, Any]:
    """Poll until the conversation has `count` messages."""
    return await wait_until(client, cid, auth, lambda body: len(body["messages"]) >= count)


def texts(body: dict[str, Any], role: str | None = None) -> list[str]:
    return [m["text"] for m in body["messages"] if role is None or m["role"] == role]


async def count(client: TestClient, model: Any, **where: Any) -> int:
    async with client.app[SERVICES].sessions() as session:
        query = select(func.count()).select_from(model).filter_by(**where)
        return int(await session.scalar(query) or 0)


@dataclass
class Agent:
    client: TestClient
    cookie: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"desk_session={self.cookie}", "X-CSRF-Token": self.csrf}

    async def get(self, path: str) -> Any:
        return await self.client.get(path, headers=self.headers())

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.client.post(
            path, json=body if body is not None else {}, headers=self.headers()
        )

    async def json(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await (self.get(path) if method == "GET" else self.post(path, body))
        assert response.status == status, (path, await response.text())
        return await response.json()


async def make_user(
    client: TestClient, username: str, role: str = "agent", limit: int = 3, team: str | None = None
) -> None:
    async with client.app[SERVICES].sessions.begin() as session:
        user = await create_user(
            session, username=username, display_name=username.title(), role=role,
            password=PASSWORD, max_concurrent=limit,
        )  # fmt: skip
        user.team = team


async def sign_in(
    client: TestClient, username: str, role: str = "agent", limit: int = 3, team: str | None = None
) -> Agent:
    await make_user(client, username, role, limit, team)
    response = await client.post(
        "/desk/api/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status == 200
    cookie = response.cookies["desk_session"].value
    client.session.cookie_jar.clear()  # each agent sends its own cookie explicitly
    return Agent(client, cookie, (await response.json())["csrf_token"])


async def queued(
    client: TestClient,
    text: str = "hand me over",
    customer: str | None = None,
    language: str = "en",
) -> tuple[str, dict[str, str]]:
    """A customer whom the (fake) bot has handed to a person."""
    cid, auth = await start(client, customer, language)
    await send(client, cid, auth, text, "m1")
    body = await wait_until(client, cid, auth, lambda b: b["mode"] == "queued")
    assert body["mode"] == "queued"
    return cid, auth


async def ticket_of(client: TestClient, cid: str) -> Ticket:
    async with client.app[SERVICES].sessions() as session:
        ticket = await session.scalar(
            select(Ticket).filter_by(conversation_id=cid).order_by(Ticket.id.desc())
        )
        assert ticket is not None
        return ticket


async def claimed(
    client: TestClient,
    agent: Agent,
    text: str = "hand me over",
    customer: str | None = None,
    language: str = "en",
) -> tuple[str, dict[str, str]]:
    """A handed-off conversation that `agent` has claimed."""
    cid, auth = await queued(client, text, customer, language)
    ticket = await ticket_of(client, cid)
    await agent.json("POST", f"/desk/api/tickets/{ticket.id}/claim")
    return cid, auth


async def seed_demo(client: TestClient) -> None:
    async with client.app[SERVICES].sessions.begin() as session:
        await seed(session)
