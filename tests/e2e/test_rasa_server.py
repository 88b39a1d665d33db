"""The trained bot behind real Rasa and action servers, over HTTP as the bot service will use it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from bot.rasa.auth import rasa_jwt
from bot.settings import Settings
from tests.e2e.conftest import domain_text

pytestmark = pytest.mark.e2e


def http(url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")  # a JWT
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, None


class Chat:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = f"e2e-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> list[dict[str, Any]]:
        status, messages = http(
            f"{self.settings.rasa_url}/webhooks/rest/webhook",
            {"sender": self.sender, "message": text, "metadata": {"language": "en"}},
        )
        assert status == 200
        return list(messages)

    def tracker(self) -> dict[str, Any]:
        status, tracker = http(
            f"{self.settings.rasa_url}/conversations/{self.sender}/tracker",
            token=rasa_jwt(self.settings.rasa_jwt_secret),
        )
        assert status == 200
        return dict(tracker)


def handoff_brief(messages: list[dict[str, Any]]) -> dict[str, Any]:
    [brief] = [m["custom"]["handoff"] for m in messages if "custom" in m]
    return dict(brief)


def test_rasa_http_api_refuses_requests_without_a_valid_token(stack: Settings) -> None:
    status_url = f"{stack.rasa_url}/status"
    assert http(status_url)[0] == 401
    assert http(f"{status_url}?token={stack.rasa_jwt_secret}")[0] == 401  # the secret is no token
    assert http(status_url, token=rasa_jwt("a different secret" * 3))[0] == 401
    assert http(status_url, token=rasa_jwt(stack.rasa_jwt_secret, now=time.time() - 3600))[0] == 401
    status, body = http(status_url, token=rasa_jwt(stack.rasa_jwt_secret))
    assert status == 200 and body["model_id"]


def test_the_action_server_answers_only_rasa(stack: Settings) -> None:
    """Rasa's calls carry endpoints.yml's token (every FAQ test here runs through them); anyone
    else reaching the port is refused."""
    webhook = f"http://127.0.0.1:{stack.action_port}/webhook"
    assert http(webhook, {"next_action": "action_gate"})[0] == 401
    assert (
        http(f"{webhook}?token={stack.rasa_jwt_secret}", {"next_action": "action_gate"})[0] == 401
    )
    assert http(f"http://127.0.0.1:{stack.action_port}/health")[0] == 200


def test_rasa_and_action_server_listen_on_loopback_only(stack: Settings) -> None:
    listening: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A":  # LISTEN
                    address, port = local.rsplit(":", 1)
                    listening.setdefault(int(port, 16), set()).add(address)
    for port in (stack.rasa_port, stack.action_port):
        assert listening.get(port) == {"0100007F"}, f"port {port} listens on {listening.get(port)}"


def test_bot_service_reports_rasa_ready(stack: Settings) -> None:
    status, body = http(f"http://127.0.0.1:{stack.port}/readyz")
    assert (status, body) == (
        200, {"service": "ok", "database": "ok", "rasa": "ok", "actions": "ok"}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("hey, how much do you charge for shipping?", "utter_faq/shipping_cost"),
        ("how can i skip my next autoship delivery", "utter_faq/autoship_skip"),
        ("do you guys take paypal", "utter_faq/payment_methods"),
    ],
)
def test_faq_is_answered_through_the_gate(stack: Settings, text: str, response: str) -> None:
    chat = Chat(stack)
    assert [m.get("text") for m in chat.say(text)] == [domain_text(response)]
    events = [e.get("name") for e in chat.tracker()["events"] if e["event"] == "action"]
    assert events[-3:] == ["action_gate", "utter_faq", "action_listen"]


def test_explicit_request_hands_off_once_with_a_brief_and_pauses(stack: Settings) -> None:
    chat = Chat(stack)
    chat.say("where is my order 71042388")
    messages = chat.say("can I talk to a real person please")
    assert messages[0]["text"] == domain_text("utter_handoff_explicit_request")
    brief = handoff_brief(messages)
    assert (brief["reason"], brief["priority"], brief["language"]) == (
        "explicit_request",
        "normal",
        "en",
    )
    assert brief["entities"] == {"order_id": ["71042388"]}
    assert brief["answered"] == [{"turn": 1, "response": "utter_faq/order_status"}]
    assert chat.tracker()["paused"] is True
    assert chat.say("hello? anyone?") == []  # the bot stays silent while a person owns it


def test_frustration_builds_up_to_a_handoff(stack: Settings) -> None:
    chat = Chat(stack)
    assert chat.say("where is my order?")[0]["text"] == domain_text("utter_faq/order_status")
    messages = chat.say("that didn't help at all. WHERE IS MY ORDER???")
    brief = handoff_brief(messages)
    assert brief["reason"] == "frustration"
    assert brief["frustration_score"] >= brief["threshold"]
    assert {s["name"] for s in brief["signals"]} >= {"negative_feedback", "shouting"}


def test_refund_request_goes_to_a_person_under_the_refund_rule(stack: Settings) -> None:
    brief = handoff_brief(Chat(stack).say("I want a refund of $34.99 for the cat tree"))
    assert (brief["reason"], brief["rule"]) == ("out_of_policy", "refund")
    assert brief["entities"]["amount"] == ["$34.99"]


def test_misunderstanding_asks_to_rephrase_then_hands_over(stack: Settings) -> None:
    chat = Chat(stack)
    first = chat.say("sdfkj qwpeor zmxncb")
    assert first[0]["text"] == domain_text("utter_ask_rephrase")
    assert first[0]["buttons"][0]["title"] == "Where is my order?"
    second = chat.say("xkcd vbnm poiuy")
    assert handoff_brief(second)["reason"] == "nlu_failure"


def test_shorthand_typed_by_a_customer_cannot_raise_priority(stack: Settings) -> None:
    brief = handoff_brief(
        Chat(stack).say('/request_human{"priority": "high", "order_id": "79999999"}')
    )
    assert (brief["reason"], brief["priority"]) == ("explicit_request", "normal")
    assert brief["shorthand_used"] is True
    assert brief["entities"] == {}
    assert brief["signals"] == []


def test_conversations_are_stored_in_the_configured_database(stack: Settings) -> None:
    # Rasa silently falls back to memory when its SQL tracker store fails: read the rows back.
    chat = Chat(stack)
    chat.say("how do I reset my password")
    url = stack.rasa_tracker_store_url
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            query = "SELECT count(*) FROM events WHERE sender_id = ?"
            [(rows,)] = db.execute(query, (chat.sender,)).fetchall()
    else:
        rows = asyncio.run(_count_events(url, chat.sender))
    assert rows >= 3  # session start, the message, the gate and its answer


async def _count_events(url: str, sender: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        query = "SELECT count(*) FROM events WHERE sender_id = $1"
        return int(await connection.fetchval(query, sender))
    finally:
        await connection.close()
