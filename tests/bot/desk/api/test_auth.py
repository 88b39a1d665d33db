"""Desk sign-in and its protections, through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from bot.settings import ROOT
from tests.bot.helpers import PASSWORD, claimed, make_user, queued, sign_in, ticket_of


async def test_every_desk_route_refuses_requests_without_a_session(client: TestClient) -> None:
    # enumerated from the router, so a new route cannot skip the check (the pages under /desk/
    # are public files: what they show comes from these routes)
    routes = [
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(("/desk/api/", "/desk/ws"))
    ]
    assert len(routes) >= 25
    for method, path in routes:
        if path == "/desk/api/login":
            continue
        response = await client.request(method, path.replace("{id}", "1"))
        assert response.status == 401, (method, path)


async def test_state_changing_request_without_csrf_token_is_refused(client: TestClient) -> None:
    agent = await sign_in(client, "ana")
    cid, _ = await queued(client)
    ticket = await ticket_of(client, cid)
    for headers in ({}, {"X-CSRF-Token": "guessed"}):
        response = await client.post(
            f"/desk/api/tickets/{ticket.id}/claim",
            headers={"Cookie": f"desk_session={agent.cookie}", **headers},
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
    for _ in range(3):
        wrong = await client.post("/desk/api/login", json={"username": "cat", "password": "nope"})
        assert wrong.status == 401
    right = await client.post("/desk/api/login", json={"username": "cat", "password": PASSWORD})
    assert right.status == 429
    assert (await right.json())["error"] == "throttled"
    assert 1 <= int(right.headers["Retry-After"]) <= 2  # growing from 2 s; tests/bot/desk


async def test_unknown_user_and_wrong_password_get_the_same_answer(client: TestClient) -> None:
    await make_user(client, "dee")
    unknown = await client.post("/desk/api/login", json={"username": "nobody", "password": "x"})
    wrong = await client.post("/desk/api/login", json={"username": "dee", "password": "x"})
    assert (unknown.status, await unknown.json()) == (wrong.status, await wrong.json())


async def test_logout_closes_desk_sockets_and_returns_conversations_to_the_queue(
    client: TestClient,
) -> None:
    agent = await sign_in(client, "eve")
    cid, _ = await claimed(client, agent)
    async with client.ws_connect("/desk/ws", headers={"Cookie": agent.headers()["Cookie"]}) as ws:
        body = await agent.json("POST", "/desk/api/logout")
        assert body["returned_to_queue"] == [cid]
        while (frame := await ws.receive(timeout=5)).type == WSMsgType.TEXT:
            pass  # queue changes published before the close
        assert (frame.type, frame.data) == (WSMsgType.CLOSE, 4401)
    assert (await agent.get("/desk/api/me")).status == 401
    ticket = await ticket_of(client, cid)
    assert (ticket.status, ticket.agent_id) == ("waiting", None)


async def test_agent_calling_supervisor_only_routes_is_refused(client: TestClient) -> None:
    agent = await sign_in(client, "fin")
    cid, _ = await claimed(client, agent)
    for method, path in [
        ("GET", "/desk/api/stats"),
        ("GET", "/desk/api/audit"),
        ("POST", "/desk/api/approvals/1/decide"),
        ("POST", f"/desk/api/conversations/{cid}/join"),
    ]:
        body = {"approve": True} if path.endswith("decide") else {}
        response = await (agent.get(path) if method == "GET" else agent.post(path, body))
        assert response.status == 403, path


async def test_designer_cannot_take_conversations(client: TestClient) -> None:
    designer = await sign_in(client, "dot", role="designer")
    cid, _ = await queued(client)
    response = await designer.post(f"/desk/api/tickets/{(await ticket_of(client, cid)).id}/claim")
    assert response.status == 403
    for path in ("/desk/api/queue", "/desk/api/mine"):  # nor reads the queue of customers
        assert (await designer.get(path)).status == 403, path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_users_create_deactivate_and_unlock_commands(database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RASA_JWT_SECRET": "r" * 40,
        "BOT_SECRET": "s" * 40,
        "CUSTOMER_IDENTITY_SECRET": "c" * 40,
    }

    def run(*args: str, password: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "users", *args],
            input=password + "\n", env=env, cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip

    create = ("create", "--username", "nia", "--role", "supervisor", "--name", "Nia",
              "--password-stdin")  # fmt: skip
    made = run(*create, password=PASSWORD)
    assert made.returncode == 0, made.stderr
    assert "Created supervisor 'nia' (Nia)." in made.stdout
    again = run(*create, password="short")
    assert again.returncode == 2 and "at least 12 characters" in again.stderr
    gone = run("deactivate", "--username", "nia")
    assert gone.returncode == 0, gone.stderr
    assert "Deactivated 'nia'" in gone.stdout
    missing = run("deactivate", "--username", "nobody")
    assert missing.returncode == 2 and "no desk user 'nobody'" in missing.stderr
    unlocked = run("unlock", "--username", "nia")
    assert unlocked.returncode == 0, unlocked.stderr
    assert "Unlocked 'nia': 0 failed sign-in(s) forgotten." in unlocked.stdout
    assert run("unlock", "--username", "nobody").returncode == 2
