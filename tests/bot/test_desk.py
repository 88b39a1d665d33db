"""The agent desk API through the real app, on SQLite and PostgreSQL (tests/bot/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.channel import CHAT
from bot.db.models import Conversation, Event, Ticket, utcnow
from bot.queue import release_expired_leases
from bot.settings import ROOT
from bot.staff import create_user
from tests.bot.conftest import FakeRasa
from tests.bot.test_channel import send, start, wait_for

PASSWORD = "correct horse battery"


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


async def make_user(client: TestClient, username: str, role: str = "agent", limit: int = 3) -> None:
    async with client.app[CHAT].sessions.begin() as session:
        await create_user(
            session, username=username, display_name=username.title(), role=role,
            password=PASSWORD, max_concurrent=limit,
        )  # fmt: skip


async def sign_in(client: TestClient, username: str, role: str = "agent", limit: int = 3) -> Agent:
    await make_user(client, username, role, limit)
    response = await client.post(
        "/desk/api/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status == 200
    cookie = response.cookies["desk_session"].value
    client.session.cookie_jar.clear()  # each agent sends its own cookie explicitly
    return Agent(client, cookie, (await response.json())["csrf_token"])


async def queued(client: TestClient, text: str = "hand me over") -> tuple[str, dict[str, str]]:
    cid, auth = await start(client)
    await send(client, cid, auth, text, "m1")
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "queued"
    return cid, auth


async def ticket_of(client: TestClient, cid: str) -> Ticket:
    async with client.app[CHAT].sessions() as session:
        ticket = await session.scalar(select(Ticket).filter_by(conversation_id=cid))
        assert ticket is not None
        return ticket


async def test_every_desk_route_refuses_requests_without_a_session(client: TestClient) -> None:
    routes = [
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/desk/")
    ]
    assert len(routes) >= 10
    for method, path in routes:
        if path == "/desk/api/login":
            continue
        response = await client.request(method, path.replace("{id}", "1"))
        assert response.status == 401, (method, path)


async def test_state_changing_request_without_csrf_token_is_refused(client: TestClient) -> None:
    agent = await sign_in(client, "ana")
    cid, _ = await queued(client)
    ticket = await ticket_of(client, cid)
    response = await client.post(
        f"/desk/api/tickets/{ticket.id}/claim", headers={"Cookie": f"desk_session={agent.cookie}"}
    )
    assert response.status == 403
    assert (await ticket_of(client, cid)).status == "waiting"


async def test_session_cookie_is_httponly_samesite_strict_and_secure_behind_tls(
    client: TestClient,
) -> None:
    await make_user(client, "ben")
    response = await client.post("/desk/api/login", json={"username": "ben", "password": PASSWORD})
    cookie = response.cookies["desk_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    behind_tls = await client.post(
        "/desk/api/login",
        json={"username": "ben", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert behind_tls.cookies["desk_session"]["secure"]


async def test_login_is_throttled_after_repeated_failures(client: TestClient) -> None:
    await make_user(client, "cat")
    for _ in range(5):
        wrong = await client.post("/desk/api/login", json={"username": "cat", "password": "nope"})
        assert wrong.status == 401
    right = await client.post("/desk/api/login", json={"username": "cat", "password": PASSWORD})
    assert right.status == 429


async def test_unknown_user_and_wrong_password_get_the_same_answer(client: TestClient) -> None:
    await make_user(client, "dee")
    unknown = await client.post("/desk/api/login", json={"username": "nobody", "password": "x"})
    wrong = await client.post("/desk/api/login", json={"username": "dee", "password": "x"})
    assert (unknown.status, await unknown.json()) == (wrong.status, await wrong.json())


async def test_logout_ends_the_session(client: TestClient) -> None:
    agent = await sign_in(client, "eve")
    assert (await agent.post("/desk/api/logout")).status == 200
    assert (await agent.get("/desk/api/me")).status == 401


async def test_queue_orders_high_priority_first_then_longest_waiting(client: TestClient) -> None:
    agent = await sign_in(client, "fay")
    first, _ = await queued(client, "please fail")  # bot_unavailable, normal priority
    second, _ = await queued(client, "please fail")
    urgent, _ = await queued(client, "hand me over")  # high priority
    body = await (await agent.get("/desk/api/queue")).json()
    assert [t["conversation_id"] for t in body["waiting"]] == [urgent, first, second]


async def test_ten_agents_claim_one_ticket_exactly_one_wins(client: TestClient) -> None:
    agents = [await sign_in(client, f"agent{i}") for i in range(10)]
    cid, _ = await queued(client)
    ticket = await ticket_of(client, cid)
    responses = await asyncio.gather(
        *(a.post(f"/desk/api/tickets/{ticket.id}/claim") for a in agents)
    )
    assert sorted(r.status for r in responses) == [200] + [409] * 9
    async with client.app[CHAT].sessions() as session:
        claims = list(
            await session.scalars(select(Event).filter_by(conversation_id=cid, kind="claimed"))
        )
        conversation = await session.get(Conversation, cid)
    assert len(claims) == 1 and conversation is not None and conversation.mode == "assigned"


async def test_agent_cannot_hold_more_conversations_than_their_limit(client: TestClient) -> None:
    agent = await sign_in(client, "gil", limit=1)
    tickets = [await ticket_of(client, (await queued(client))[0]) for _ in range(2)]
    assert (await agent.post(f"/desk/api/tickets/{tickets[0].id}/claim")).status == 200
    over = await agent.post(f"/desk/api/tickets/{tickets[1].id}/claim")
    assert over.status == 409 and "limit 1" in (await over.json())["message"]


async def test_agent_cannot_read_or_write_another_agents_conversation(client: TestClient) -> None:
    owner, other = await sign_in(client, "hal"), await sign_in(client, "ida")
    cid, _ = await queued(client)
    await owner.post(f"/desk/api/tickets/{(await ticket_of(client, cid)).id}/claim")
    assert (await other.get(f"/desk/api/conversations/{cid}")).status == 403
    assert (
        await other.post(f"/desk/api/conversations/{cid}/messages", {"text": "hi"})
    ).status == 403
    assert (await other.post(f"/desk/api/conversations/{cid}/return")).status == 403
    supervisor = await sign_in(client, "sue", role="supervisor")
    assert (await supervisor.get(f"/desk/api/conversations/{cid}")).status == 200


async def test_agent_and_customer_talk_and_the_bot_stays_silent(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    agent = await sign_in(client, "jo")
    cid, auth = await queued(client)
    await agent.post(f"/desk/api/tickets/{(await ticket_of(client, cid)).id}/claim")
    view = await (await agent.get(f"/desk/api/conversations/{cid}")).json()
    assert view["brief"]["reason"] == "frustration" and view["mode"] == "assigned"
    assert [m["text"] for m in view["transcript"]] == ["hand me over", "A person will take over."]
    reply = await agent.post(f"/desk/api/conversations/{cid}/messages", {"text": "Hi, I'm Jo."})
    assert reply.status == 201
    await send(client, cid, auth, "thanks Jo", "m2")
    body = await wait_for(client, cid, auth, 4)
    assert [(m["role"], m["text"]) for m in body["messages"][2:]] == [
        ("agent", "Hi, I'm Jo."),
        ("customer", "thanks Jo"),
    ]
    assert body["messages"][2]["agent"] == "Jo"
    assert len(fake_rasa[0].received) == 1  # only the message before the handoff


async def test_silent_agents_claim_returns_to_the_queue(client: TestClient) -> None:
    agent = await sign_in(client, "kim")
    cid, _ = await queued(client)
    await agent.post(f"/desk/api/tickets/{(await ticket_of(client, cid)).id}/claim")
    async with client.app[CHAT].sessions.begin() as session:
        assert await release_expired_leases(session) == []  # still within the lease
        released = await release_expired_leases(session, now=utcnow() + timedelta(hours=1))
    assert released == [cid]
    ticket = await ticket_of(client, cid)
    assert (ticket.status, ticket.agent_id) == ("waiting", None)
    assert (
        await agent.post(f"/desk/api/conversations/{cid}/messages", {"text": "hi"})
    ).status == 409


async def test_return_to_bot_resumes_rasa_and_the_bot_answers_again(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    agent = await sign_in(client, "lee")
    cid, auth = await queued(client)
    await agent.post(f"/desk/api/tickets/{(await ticket_of(client, cid)).id}/claim")
    response = await agent.post(f"/desk/api/conversations/{cid}/return", {"outcome": "credited"})
    assert response.status == 200
    assert fake_rasa[0].tracker_events[cid][0] == {"event": "resume"}
    await send(client, cid, auth, "one more question", "m2")
    body = await wait_for(client, cid, auth, 4)
    assert body["mode"] == "bot"
    assert body["messages"][-1]["text"] == "echo: one more question"
    assert (await ticket_of(client, cid)).wrap_up == "credited"


async def test_resolve_asks_the_satisfaction_question_and_closes(client: TestClient) -> None:
    agent = await sign_in(client, "max")
    cid, auth = await queued(client)
    await agent.post(f"/desk/api/tickets/{(await ticket_of(client, cid)).id}/claim")
    bad = await agent.post(f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "whatever"})
    assert bad.status == 409
    done = await agent.post(f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    assert done.status == 200
    body = await wait_for(client, cid, auth, 3)
    assert body["mode"] == "closed"
    assert body["messages"][-1]["survey"] == "csat"
    assert (await send(client, cid, auth, "bye", "m9")).status == 409


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_users_create_command_makes_an_account_that_can_sign_in(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_JWT_SECRET": "r" * 40,
        "BOT_SECRET": "s" * 40,
    }
    command = [sys.executable, "-m", "bot", "users", "create", "--username", "nia", "--role",
               "supervisor", "--name", "Nia", "--password-stdin"]  # fmt: skip
    made = subprocess.run(
        command,
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert "Created supervisor 'nia' (Nia)." in made.stdout
    again = subprocess.run(
        command, input="short\n", env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert again.returncode == 2 and "at least 12 characters" in again.stderr
