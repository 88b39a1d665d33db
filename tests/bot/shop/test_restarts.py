"""The service killed with SIGKILL while a grant is on its way to the shop, then restarted: the
grant is delivered, and the shop's own database shows it exactly once (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.channel import identity
from tests.bot.conftest import FakeRasa
from tests.bot.processes import run_command, service_env, start_service, stop
from tests.bot.shop.conftest import SHOP_SECRET, Backend
from tests.e2e.conftest import free_port

PASSWORD = "correct horse battery"
CREDIT = {"kind": "credit", "order_id": "71042388", "amount_cents": 1200, "reason": "late box"}


class Desk:
    """A customer handed over and an agent holding the conversation, over real HTTP."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base
        self.headers: dict[str, str] = {}
        self.cid = ""

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(
            method, self.base + path, json=body, headers=self.headers
        ) as response:
            assert response.status in (200, 201), (path, await response.text())
            return await response.json()

    async def hand_over(self, secret: str) -> None:
        customer = identity.sign(secret, "C1001")
        started = await self.call("POST", "/api/conversations", {"customer": customer})
        self.cid, auth = started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}
        async with self.http.post(
            f"{self.base}/api/conversations/{self.cid}/messages",
            json={"client_msg_id": "m1", "text": "hand me over"},
            headers=auth,
        ) as response:
            assert response.status == 201
        async with self.http.post(
            f"{self.base}/desk/api/login", json={"username": "ana", "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
            cookie, csrf = (
                response.cookies["desk_session"].value,
                (await response.json())["csrf_token"],
            )
        self.headers = {"Cookie": f"desk_session={cookie}", "X-CSRF-Token": csrf}
        deadline = time.monotonic() + 10
        while not (queue := (await self.call("GET", "/desk/api/queue"))["waiting"]):
            assert time.monotonic() < deadline, "the handoff never reached the queue"
            await asyncio.sleep(0.1)
        await self.call("POST", f"/desk/api/tickets/{queue[0]['ticket_id']}/claim")
        await self.call("GET", f"/desk/api/conversations/{self.cid}")  # the shop's record

    async def grant_state(self) -> str:
        view = await self.call("GET", f"/desk/api/conversations/{self.cid}")
        return str(view["grants"][0]["delivery"]["state"])


@pytest.fixture
async def service(
    database_url: str, fake_rasa: tuple[FakeRasa, int], backend: Backend
) -> AsyncIterator[tuple[dict[str, str], int]]:
    env = service_env(
        database_url, fake_rasa[1], SHOP_CONNECTOR="http", SHOP_URL=backend.url,
        SHOP_SECRET=SHOP_SECRET, SHOP_TIMEOUT_SECONDS="1", DEMO_PAGES="off",
    )  # fmt: skip
    code, output = await run_command(
        env, "users", "create", "--username", "ana", "--role", "agent", "--name", "Ana",
        "--password-stdin", stdin=f"{PASSWORD}\n".encode(),
    )  # fmt: skip
    assert code == 0, output
    yield env, free_port()


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def settled(desk: Desk, seconds: int = 30) -> str:
    """The grant's state once it is no longer pending (or still pending after `seconds`)."""
    for _ in range(seconds * 5):
        if (state := await desk.grant_state()) != "pending":
            return state
        await asyncio.sleep(0.2)
    return state


def executed(backend: Backend) -> list[tuple[Any, ...]]:
    return backend.rows("SELECT kind, amount_cents, customer_id FROM remedies")


async def test_a_grant_committed_before_the_kill_is_delivered_after_the_restart_once(
    service: tuple[dict[str, str], int], backend: Backend
) -> None:
    env, port = service
    process = await start_service(env, port)
    try:
        async with aiohttp.ClientSession() as http:
            desk = Desk(http, f"http://127.0.0.1:{port}")
            await desk.hand_over(env["CUSTOMER_IDENTITY_SECRET"])
            await backend.control(fail_next=10_000)  # the shop is down: the grant waits
            await desk.call("POST", f"/desk/api/conversations/{desk.cid}/grants", CREDIT)
            assert await desk.grant_state() == "pending"
            await kill(process)  # between the commit and any delivery the shop accepted
            assert executed(backend) == []
            await backend.control(fail_next=0)
            process = await start_service(env, port)
            assert await settled(desk) == "done"
        assert executed(backend) == [("credit", 1200, "C1001")]
    finally:
        await stop(process)


async def test_a_kill_while_the_shop_executes_is_redelivered_and_not_executed_twice(
    service: tuple[dict[str, str], int], backend: Backend
) -> None:
    env, port = service
    process = await start_service(env, port)
    try:
        async with aiohttp.ClientSession() as http:
            desk = Desk(http, f"http://127.0.0.1:{port}")
            await desk.hand_over(env["CUSTOMER_IDENTITY_SECRET"])
            await backend.control(slow_seconds=2)  # it executes; its answer comes too late
            await desk.call("POST", f"/desk/api/conversations/{desk.cid}/grants", CREDIT)
            await asyncio.sleep(0.5)  # the delivery is at the shop now
            assert (await backend.requests())["by_key"], "the delivery had not reached the shop"
            await kill(process)
            await asyncio.sleep(2)  # the shop finishes the work the dead service asked for
            assert executed(backend) == [("credit", 1200, "C1001")]
            await backend.control(slow_seconds=0)
            process = await start_service(env, port)
            # the dead worker's claim lapses, and the grant goes again under the same key
            assert await settled(desk) == "done"
        assert executed(backend) == [("credit", 1200, "C1001")]
        attempts = (await backend.requests())["by_key"]
        assert list(attempts.values()) == [2]
    finally:
        await stop(process)
