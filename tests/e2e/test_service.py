"""A customer on the website channel, through the bot service, to the real Rasa and actions."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from tests.e2e.conftest import domain_text

pytestmark = pytest.mark.e2e


def start_conversation(settings: Settings) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.port}/api/conversations",
        data=b'{"language": "en"}',
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
        assert await next_of(ws, type="mode") == {"type": "mode", "mode": "bot"}

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
        }
