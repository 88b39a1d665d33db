"""Every way a conversation comes back to the bot, on the real Rasa and action servers: the next
question gets exactly one answer, the right one, as in a fresh conversation.

A stand-in cannot show this: the loop these tests guard against (seven "Sorry, I'm not sure I
understood that" and Rasa's circuit breaker, after Resolve) came from the state Rasa's tracker was
left in, which only the real server has.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from bot.conversations.lifecycle import Work
from bot.db.engine import create_engine, session_factory
from bot.db.models import Ticket, utcnow
from bot.desk.queue import release_expired_leases
from bot.desk.staff import create_user
from bot.settings import Settings
from tests.bot.conversations.lifecycle_machine import Harness, explore, settle_over_http
from tests.e2e.conftest import domain_text
from tests.e2e.test_service import start_conversation

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
QUESTION = "how long does a refund take to show up on my card"
ANSWER = "utter_faq/refund_timing"


@dataclass
class Customer:
    http: aiohttp.ClientSession
    base: str
    cid: str
    token: str
    sent: int = 0

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def transcript(self) -> dict[str, Any]:
        url = f"{self.base}/api/conversations/{self.cid}/messages"
        async with self.http.get(url, headers=self.auth) as response:
            assert response.status == 200
            return dict(await response.json())

    async def until(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            body = await self.transcript()
            if done(body):
                return body
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.1)

    async def say(self, text: str) -> int:
        """Send and return the message's seq."""
        self.sent += 1
        url = f"{self.base}/api/conversations/{self.cid}/messages"
        body = {"client_msg_id": f"m{self.sent}", "text": text}
        async with self.http.post(url, json=body, headers=self.auth) as response:
            assert response.status in (200, 201), await response.text()
            return int((await response.json())["seq"])

    async def ask(self, text: str) -> list[str]:
        """Everything the bot said to this message (all of a turn's answers commit together)."""
        seq = await self.say(text)

        def after(body: dict[str, Any]) -> list[dict[str, Any]]:
            return [m for m in body["messages"] if m["seq"] > seq and m["role"] != "customer"]

        body = await self.until(lambda body: bool(after(body)))
        await asyncio.sleep(0.3)  # a second turn's answers would be a bug too: let them show
        body = await self.transcript()
        return [f"{m['role']}: {m['text']}" for m in after(body)]

    async def post(self, path: str, body: Any = None) -> None:
        url = f"{self.base}/api/conversations/{self.cid}/{path}"
        async with self.http.post(url, json=body or {}, headers=self.auth) as response:
            assert response.status in (200, 201), await response.text()


@dataclass
class Desk:
    http: aiohttp.ClientSession
    base: str
    csrf: str
    username: str

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.request(
            method, f"{self.base}{path}", json=body, headers=headers
        ) as response:
            assert response.status in (200, 201), (path, await response.text())
            return await response.json()

    async def claim(self, cid: str) -> None:
        deadline = time.monotonic() + 10
        while True:
            waiting = (await self.call("GET", "/desk/api/queue"))["waiting"]
            mine = [t for t in waiting if t["conversation_id"] == cid]
            if mine:
                break
            assert time.monotonic() < deadline, f"{cid} never reached the queue"
            await asyncio.sleep(0.1)
        await self.call("POST", f"/desk/api/tickets/{mine[0]['ticket_id']}/claim")

    async def reply(self, cid: str, text: str) -> None:
        await self.call("POST", f"/desk/api/conversations/{cid}/messages", {"text": text})


@dataclass
class World:
    settings: Settings
    http: aiohttp.ClientSession
    base: str

    async def customer(self) -> Customer:
        started = start_conversation(self.settings)
        return Customer(self.http, self.base, started["conversation_id"], started["token"])

    async def desk(self, role: str = "agent") -> Desk:
        username = f"{role}{uuid.uuid4().hex[:8]}"
        engine = create_engine(self.settings.database_url)
        try:
            async with session_factory(engine).begin() as session:
                await create_user(
                    session, username=username, display_name=username.title(), role=role,
                    password=PASSWORD,
                )  # fmt: skip
        finally:
            await engine.dispose()
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self._open.append(http)
        async with http.post(
            f"{self.base}/desk/api/login", json={"username": username, "password": PASSWORD}
        ) as response:
            assert response.status == 200
            csrf = (await response.json())["csrf_token"]
        return Desk(http, self.base, csrf, username)

    def __post_init__(self) -> None:
        self._open: list[aiohttp.ClientSession] = []

    async def close(self) -> None:
        for http in self._open:
            await http.close()


@pytest.fixture
async def world(stack: Settings) -> AsyncIterator[World]:
    async with aiohttp.ClientSession() as http:
        made = World(stack, http, f"http://127.0.0.1:{stack.port}")
        yield made
        await made.close()


async def handed_over(customer: Customer) -> None:
    """The journey from the issue: one FAQ answer, then the customer asks for a person."""
    assert await customer.ask("how much is shipping") == [
        f"bot: {domain_text('utter_faq/shipping_cost')}"
    ]
    await customer.say("this is useless, I want to talk to a real person")
    await customer.until(lambda body: body["mode"] == "queued")


async def answered_as_fresh(customer: Customer) -> None:
    assert (await customer.transcript())["mode"] in ("bot", "closed")
    assert await customer.ask(QUESTION) == [f"bot: {domain_text(ANSWER)}"]
    assert (await customer.transcript())["mode"] == "bot"
    # and the conversation goes on as usual
    assert await customer.ask("how much is shipping") == [
        f"bot: {domain_text('utter_faq/shipping_cost')}"
    ]


async def claimed(world: World, customer: Customer) -> Desk:
    await handed_over(customer)
    agent = await world.desk()
    await agent.claim(customer.cid)
    await agent.reply(customer.cid, "Hi, I'm looking into it now.")
    return agent


async def resolved(agent: Desk, customer: Customer) -> None:
    await agent.call(
        "POST", f"/desk/api/conversations/{customer.cid}/resolve", {"wrap_up": "resolved"}
    )
    await customer.until(lambda body: body["mode"] == "closed")


async def returned(agent: Desk, customer: Customer) -> None:
    await agent.call(
        "POST", f"/desk/api/conversations/{customer.cid}/return", {"outcome": "resolved"}
    )
    body = await customer.until(lambda body: body["messages"][-1]["role"] == "bot")
    assert body["mode"] == "bot"
    assert body["messages"][-1]["text"] == domain_text("utter_handback")


async def resolve_rate_then_ask(world: World, customer: Customer) -> None:
    await resolved(await claimed(world, customer), customer)
    await customer.say("4")  # the answer to the satisfaction question
    assert (await customer.transcript())["mode"] == "closed"


async def resolve_then_ask(world: World, customer: Customer) -> None:
    await resolved(await claimed(world, customer), customer)


async def return_to_bot(world: World, customer: Customer) -> None:
    await returned(await claimed(world, customer), customer)


async def customer_back_to_bot(world: World, customer: Customer) -> None:
    await handed_over(customer)
    await customer.post("back-to-bot")
    await customer.until(lambda body: body["mode"] == "bot")


async def lapsed_lease(world: World, customer: Customer) -> None:
    await claimed(world, customer)
    engine = create_engine(world.settings.database_url)
    try:  # what the service's reaper does once the agent has gone silent for the lease
        async with session_factory(engine).begin() as session:
            await session.execute(
                update(Ticket)
                .where(Ticket.conversation_id == customer.cid)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
            assert customer.cid in await release_expired_leases(Work(session, utcnow()))
    finally:
        await engine.dispose()
    second = await world.desk()
    await second.claim(customer.cid)
    await returned(second, customer)


async def sign_out(world: World, customer: Customer) -> None:
    agent = await claimed(world, customer)
    await agent.call("POST", "/desk/api/logout")
    await customer.until(lambda body: body["mode"] == "queued")
    second = await world.desk()
    await second.claim(customer.cid)
    await resolved(second, customer)


async def transfer_to_team(world: World, customer: Customer) -> None:
    agent = await claimed(world, customer)
    await agent.call(
        "POST", f"/desk/api/conversations/{customer.cid}/transfer", {"to_team": "billing"}
    )
    await customer.until(lambda body: body["mode"] == "queued")
    second = await world.desk()
    await second.claim(customer.cid)
    await returned(second, customer)


async def supervisor_joins(world: World, customer: Customer) -> None:
    await claimed(world, customer)
    boss = await world.desk("supervisor")
    await boss.call("POST", f"/desk/api/conversations/{customer.cid}/join")
    await boss.reply(customer.cid, "I'm the supervisor; this is sorted now.")
    await resolved(boss, customer)


async def call_back_left(world: World, customer: Customer) -> None:
    await handed_over(customer)
    await customer.post("callback", {"email": "sam@example.com", "note": "after 5pm please"})
    agent = await world.desk()
    await agent.claim(customer.cid)
    await agent.reply(customer.cid, "Hi Sam, calling you back here as asked.")
    await resolved(agent, customer)


PATHS: dict[str, Callable[[World, Customer], Awaitable[None]]] = {
    "resolved, rated, then the customer writes again": resolve_rate_then_ask,
    "resolved, then the customer writes again": resolve_then_ask,
    "returned to the bot by the agent": return_to_bot,
    "the customer goes back to the bot while waiting": customer_back_to_bot,
    "the agent's lease lapses, a colleague returns it": lapsed_lease,
    "the agent signs out, a colleague resolves it": sign_out,
    "transferred to a team, returned from there": transfer_to_team,
    "a supervisor joins and resolves": supervisor_joins,
    "a call-back is left, then an agent resolves": call_back_left,
}


@pytest.mark.parametrize("path", PATHS)
async def test_the_next_question_after_the_bot_takes_over_again_gets_one_right_answer(
    world: World, path: str
) -> None:
    customer = await world.customer()
    await PATHS[path](world, customer)
    await answered_as_fresh(customer)


# A shorter run of tests/bot/conversations/test_lifecycle.py's exploration, on the real servers:
# what the scripted Rasa cannot show (the state Rasa's tracker is left in) shows here.
E2E_EXAMPLES = int(os.environ.get("LIFECYCLE_E2E_EXAMPLES", "10"))
E2E_STEPS = int(os.environ.get("LIFECYCLE_E2E_STEPS", "40"))
FAQ = [
    ("how much is shipping?", "utter_faq/shipping_cost"),
    (QUESTION, ANSWER),
    ("how do i send something back?", "utter_faq/return_how"),
    ("where is my order 71042388", "utter_faq/order_status"),
]


def test_explored_paths_keep_the_invariants_on_the_real_bot(stack: Settings) -> None:
    loop = asyncio.new_event_loop()
    harness = Harness(
        base=f"http://127.0.0.1:{stack.port}",
        database_url=stack.database_url,
        faq=[(question, domain_text(answer)) for question, answer in FAQ],
        handoff_text="this is useless, I want to talk to a real person",
        fail_text=None,
        settle=settle_over_http,
        confirms=lambda text: text == domain_text("utter_handback"),
    )
    seeded = "LIFECYCLE_E2E_EXAMPLES" not in os.environ
    try:  # shrinking would replay the real bot for minutes: the failing steps print unshrunk
        explore(harness, loop, E2E_EXAMPLES, E2E_STEPS, seeded=seeded, shrink=False)
    finally:
        loop.close()
