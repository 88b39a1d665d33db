"""A customer on the website channel, through the bot service, to the real Rasa and actions."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import aiohttp
import pytest

from bot.channel import identity
from bot.db.engine import create_engine, session_factory
from bot.desk.staff import create_user
from bot.ops.demo import seed
from bot.settings import Settings
from tests.e2e.conftest import domain_text

pytestmark = pytest.mark.e2e


def start_conversation(settings: Settings, customer: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"language": "en"}
    if customer:
        body["customer"] = identity.sign(settings.customer_identity_secret, customer)
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.port}/api/conversations",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


async def next_of(ws: aiohttp.ClientWebSocketResponse, **match: Any) -> dict[str, Any]:
    """The next frame matching all of `match`, skipping others (acks, echoes of our message)."""
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=30)
        if all(frame.get(key) == value for key, value in match.items()):
            return frame


async def test_faq_answers_then_frustration_queues_with_a_brief(stack: Settings) -> None:
    started = start_conversation(stack)
    url = f"http://127.0.0.1:{stack.port}/api/conversations/{started['conversation_id']}/ws"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_json({"type": "hello", "token": started["token"], "since_seq": 0})
        assert (await next_of(ws, type="mode"))["mode"] == "bot"

        await ws.send_json(
            {"type": "message", "client_msg_id": "c1", "text": "how much is shipping?"}
        )
        answer = await next_of(ws, type="message", role="bot")
        assert answer["text"] == domain_text("utter_faq/shipping_cost")

        await ws.send_json(
            {"type": "message", "client_msg_id": "c2", "text": "where is my order 71042388"}
        )
        answer = await next_of(ws, type="message", role="bot")
        assert answer["text"] == domain_text("utter_faq/order_status")

        await ws.send_json(
            {
                "type": "message",
                "client_msg_id": "c3",
                "text": "that didn't help at all. WHERE IS IT???",
            }
        )
        notice = await next_of(ws, type="message", role="bot")
        assert notice["text"] == domain_text("utter_handoff_frustration")
        mode = await next_of(ws, type="mode")
        assert mode == {
            "type": "mode",
            "mode": "queued",
            "reason": "frustration",
            "priority": "normal",
            "language": "en",  # the language the customer writes in, for the widget's words
            "conversation_id": started["conversation_id"],
        }


async def _demo_shop_with_an_agent(settings: Settings, username: str) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            await seed(session)  # nothing if another test seeded already
            await create_user(
                session, username=username, display_name="Ana", role="agent",
                password="correct horse battery",
            )  # fmt: skip
    finally:
        await engine.dispose()


async def test_agent_claims_gives_a_credit_and_hands_back_to_the_bot(stack: Settings) -> None:
    """The product's main path: FAQ answers, frustration, the queue, a person with authority who
    fixes it on the spot, and the bot carrying on, confirming in writing what was done."""
    agent_name = f"ana{stack.port}"
    await _demo_shop_with_an_agent(stack, agent_name)
    base = f"http://127.0.0.1:{stack.port}"
    started = start_conversation(stack, customer="C1001")
    cid = started["conversation_id"]
    jar = aiohttp.CookieJar(unsafe=True)  # the desk cookie is for 127.0.0.1, an IP address
    async with aiohttp.ClientSession() as customer, aiohttp.ClientSession(cookie_jar=jar) as desk:
        ws = await customer.ws_connect(f"{base}/api/conversations/{cid}/ws")
        await ws.send_json({"type": "hello", "token": started["token"], "since_seq": 0})
        await next_of(ws, type="mode")
        for number, (text, response) in enumerate(
            [("how much is shipping?", "utter_faq/shipping_cost"),
             ("where is my order 71042388", "utter_faq/order_status")]
        ):  # fmt: skip
            await ws.send_json({"type": "message", "client_msg_id": f"c{number}", "text": text})
            assert (await next_of(ws, type="message", role="bot"))["text"] == domain_text(response)
        await ws.send_json(
            {"type": "message", "client_msg_id": "c9", "text": "that didn't help. WHERE IS IT???"}
        )
        assert (await next_of(ws, type="mode"))["mode"] == "queued"

        login = await desk.post(
            f"{base}/desk/api/login",
            json={"username": agent_name, "password": "correct horse battery"},
        )
        assert login.status == 200
        csrf = {"X-CSRF-Token": (await login.json())["csrf_token"]}
        waiting = (await (await desk.get(f"{base}/desk/api/queue")).json())["waiting"]
        [ticket] = [t for t in waiting if t["conversation_id"] == cid]
        assert ticket["reason"] == "frustration"
        claim = await desk.post(
            f"{base}/desk/api/tickets/{ticket['ticket_id']}/claim", headers=csrf
        )
        assert claim.status == 200
        assert (await next_of(ws, type="mode"))["agent"] == "Ana"

        view = await (await desk.get(f"{base}/desk/api/conversations/{cid}")).json()
        assert view["brief"]["entities"]["order_id"] == ["71042388"]
        assert view["customer"]["id"] == "C1001"
        assert "71042388" in [o["id"] for o in view["customer"]["orders"]]
        credit = {"kind": "credit", "order_id": "71042388", "amount_cents": 1500,
                  "reason": "late delivery, asked twice"}  # fmt: skip
        granted = await desk.post(
            f"{base}/desk/api/conversations/{cid}/grants", json=credit, headers=csrf
        )
        assert granted.status == 201, await granted.text()
        assert (await granted.json())["applied"]["credit_balance_cents"] == 1500
        reply = {"text": "I've added a $15 credit to your account. Your box is out today."}
        assert (
            await desk.post(
                f"{base}/desk/api/conversations/{cid}/messages", json=reply, headers=csrf
            )
        ).status == 201
        assert (await next_of(ws, type="message", role="agent"))["text"] == reply["text"]

        back = await desk.post(
            f"{base}/desk/api/conversations/{cid}/return",
            json={"outcome": "credited"},
            headers=csrf,
        )
        assert back.status == 200, await back.text()
        assert (await next_of(ws, type="mode"))["mode"] == "bot"
        welcome = await next_of(ws, type="message", role="bot")
        assert "a $15.00 credit to your account" in welcome["text"]

        await ws.send_json(
            {
                "type": "message",
                "client_msg_id": "c10",
                "text": "ok thanks. how do i send something back?",
            }
        )
        answer = await next_of(ws, type="message", role="bot")
        assert answer["text"] == domain_text("utter_faq/return_how")
        await ws.close()
