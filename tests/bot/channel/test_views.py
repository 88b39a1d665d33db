"""The customer channel through the real app, on SQLite and PostgreSQL (tests/bot/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.channel import tokens
from bot.db.models import Conversation, Event, Message, Ticket
from bot.rasa.turn import TURNS
from bot.services import SERVICES
from tests.bot.conftest import NO_AGENTS, FakeRasa, settings_for
from tests.bot.helpers import count, send, start, texts, ticket_of, wait_for, wait_until


async def test_message_is_stored_acknowledged_and_answered_by_the_bot(client: TestClient) -> None:
    cid, auth = await start(client)
    response = await send(client, cid, auth, "where is my order", "m1")
    assert response.status == 201
    assert await response.json() == {"id": 1, "seq": 1, "client_msg_id": "m1"}
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "bot"
    assert [(m["seq"], m["role"], m["text"]) for m in body["messages"]] == [
        (1, "customer", "where is my order"),
        (2, "bot", "echo: where is my order"),
    ]


async def test_bot_buttons_are_relayed(client: TestClient) -> None:
    cid, auth = await start(client)
    await send(client, cid, auth, "show me buttons", "m1")
    body = await wait_for(client, cid, auth, 2)
    assert body["messages"][1]["buttons"] == [{"title": "Yes", "payload": "yes"}]


async def test_a_tapped_button_is_stored_as_its_title_and_reaches_rasa_as_its_payload(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    """The customer (and the agent later) read what the chip said, in the customer's language;
    the bot gets the payload, marked as a button's, so it is not taken for their language."""
    cid, auth = await start(client, language="vi")
    tapped = {
        "client_msg_id": "b1",
        "text": "Đơn hàng của tôi đâu rồi?",
        "button": "Where is my order?",
    }
    response = await client.post(f"/api/conversations/{cid}/messages", json=tapped, headers=auth)
    assert response.status == 201
    body = await wait_for(client, cid, auth, 2)
    assert body["messages"][0]["text"] == "Đơn hàng của tôi đâu rồi?"
    [sent] = fake_rasa[0].received
    assert sent["message"] == "Where is my order?"
    assert sent["metadata"] == {"language": "vi", "customer_id": None, "button": True}
    for button in ("", 7, "x" * 501, "go\x07"):
        refused = await client.post(
            f"/api/conversations/{cid}/messages",
            json={"client_msg_id": "b2", "text": "Yes", "button": button},
            headers=auth,
        )
        assert refused.status == 400
        assert (await refused.json())["error"] == "invalid_button"


async def test_same_client_msg_id_five_times_at_once_stores_one_row(client: TestClient) -> None:
    cid, auth = await start(client)
    responses = await asyncio.gather(*(send(client, cid, auth, "hi", "same") for _ in range(5)))
    bodies = [await r.json() for r in responses]
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201]
    assert {(b["id"], b["seq"]) for b in bodies} == {(bodies[0]["id"], 1)}
    assert await count(client, Message, conversation_id=cid, role="customer") == 1


async def test_seq_is_gapless_under_concurrent_messages(client: TestClient) -> None:
    cid, auth = await start(client)
    await asyncio.gather(*(send(client, cid, auth, f"message {i}", f"m{i}") for i in range(12)))
    body = await wait_for(client, cid, auth, 24)
    assert [m["seq"] for m in body["messages"]] == list(range(1, 25))
    async with client.app[SERVICES].sessions() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.last_seq == 24


async def test_poll_since_seq_returns_exactly_what_came_after(client: TestClient) -> None:
    cid, auth = await start(client)
    for i in range(3):
        await send(client, cid, auth, f"q{i}", f"m{i}")
    await wait_for(client, cid, auth, 6)
    response = await client.get(f"/api/conversations/{cid}/messages?since_seq=4", headers=auth)
    assert [m["seq"] for m in (await response.json())["messages"]] == [5, 6]


async def test_token_of_one_conversation_is_refused_on_another(client: TestClient) -> None:
    _, first_auth = await start(client)
    second, _ = await start(client)
    response = await send(client, second, first_auth, "hi", "m1")
    assert response.status == 401
    assert (await response.json())["error"] == "invalid_token"
    assert (
        await client.get(f"/api/conversations/{second}/messages", headers=first_auth)
    ).status == 401
    assert await count(client, Message, conversation_id=second) == 0


async def test_forged_missing_and_expired_tokens_are_refused(client: TestClient) -> None:
    cid, _ = await start(client)
    secret = client.app[SERVICES].settings.secret
    expired, _ = tokens.issue(secret, cid, now=time.time() - tokens.LIFETIME_SECONDS - 10)
    for headers in (
        {},
        {"Authorization": "Bearer 9999999999.forged"},
        {"Authorization": f"Bearer {tokens.issue('x' * 40, cid)[0]}"},
        {"Authorization": f"Bearer {expired}"},
    ):
        assert (await send(client, cid, headers, "hi", "m1")).status == 401
    assert await count(client, Message, conversation_id=cid) == 0


async def test_oversize_message_is_rejected_and_nothing_is_stored(client: TestClient) -> None:
    cid, auth = await start(client)
    response = await send(client, cid, auth, "x" * 501, "m1")
    assert response.status == 400
    assert await response.json() == {
        "error": "message_too_long",
        "message": "messages are limited to 500 characters",
        "max_chars": 500,
    }
    assert await count(client, Message, conversation_id=cid) == 0


async def test_wrong_types_invalid_json_and_nul_get_4xx_never_5xx(client: TestClient) -> None:
    cid, auth = await start(client)
    url = f"/api/conversations/{cid}/messages"
    bad_bodies: list[bytes] = [
        b"not json",
        b"\xff\xfe invalid utf-8",
        b"[]",
        b'{"client_msg_id": 5, "text": "hi"}',
        b'{"client_msg_id": "m1", "text": ["hi"]}',
        b'{"client_msg_id": "m1", "text": "   "}',
        b'{"client_msg_id": "m1", "text": "a\\u0000b"}',
        b'{"client_msg_id": "has spaces", "text": "hi"}',
    ]
    for raw in bad_bodies:
        response = await client.post(url, data=raw, headers=auth)
        assert response.status == 400, raw
        assert "error" in await response.json()
    unknown = await client.post(f"/api/conversations/{cid}x/messages", data=b"{}", headers=auth)
    assert unknown.status == 401  # the token names another id, so there is nothing to tell
    assert await count(client, Message, conversation_id=cid) == 0


# ESC, DEL and C1 controls (terminal escapes, NEL), the whitespace-like C0 controls, and a lone
# surrogate that a JSON escape smuggles in: none is text; written into training data, they
# break YAML and Rasa ("unacceptable character #x001b").
CONTROLS = ["\x1b[31m", "\x7f", "\x85", "\x9b", "\x0b", "\x0c", "\x1c", "\x08", "\ud83d"]


async def test_control_characters_in_a_message_are_refused_and_nothing_is_stored(
    client: TestClient,
) -> None:
    cid, auth = await start(client)
    for index, control in enumerate(CONTROLS):
        response = await send(client, cid, auth, f"where is{control} my order", f"c{index}")
        assert response.status == 400, repr(control)
        # a lone surrogate is refused with the body, which no column could store (bot/web/http.py)
        expected = "invalid_json" if control == "\ud83d" else "invalid_text"
        assert (await response.json())["error"] == expected
    assert await count(client, Message, conversation_id=cid) == 0
    lines = "two lines,\r\nand a\ttab\nhere"  # tab and line breaks are ordinary text
    assert (await send(client, cid, auth, lines, "ok")).status == 201
    assert texts(await wait_for(client, cid, auth, 1))[0] == lines


async def test_html_in_a_message_is_stored_verbatim(client: TestClient) -> None:
    cid, auth = await start(client)
    text = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await send(client, cid, auth, text, "m1")
    body = await wait_for(client, cid, auth, 1)
    assert body["messages"][0]["text"] == text


async def test_shorthand_typed_by_a_customer_reaches_rasa_without_its_slash(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    cid, auth = await start(client)
    await send(client, cid, auth, " /restart", "m1")
    await send(client, cid, auth, '/request_human{"priority": "vip"}', "m2")
    await send(client, cid, auth, '\u00a0/inform_order{"order_id":"FAKE-999"}', "m3")
    await wait_for(client, cid, auth, 6)
    assert [r["message"] for r in fake_rasa[0].received] == [
        "restart",
        'request_human{"priority": "vip"}',
        'inform_order{"order_id":"FAKE-999"}',
    ]
    body = await wait_for(client, cid, auth, 6)
    assert body["messages"][0]["text"] == " /restart"  # stored as the customer wrote it


async def test_handoff_payload_queues_once_and_the_bot_falls_silent(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    cid, auth = await start(client)
    await send(client, cid, auth, "hand me over", "m1")
    body = await wait_for(client, cid, auth, 3)
    assert body["mode"] == "queued"
    # nobody is on the desk in this test, and the customer is told so
    assert [m["text"] for m in body["messages"]] == [
        "hand me over", "A person will take over.", NO_AGENTS,
    ]  # fmt: skip
    await send(client, cid, auth, "hand me over again", "m2")
    await send(client, cid, auth, "hello? anyone?", "m3")
    await wait_for(client, cid, auth, 5)
    await client.app[TURNS].drain()  # the turns these messages started have finished
    assert [m["role"] for m in (await wait_for(client, cid, auth, 5))["messages"]] == [
        "customer", "bot", "system", "customer", "customer",
    ]  # fmt: skip
    assert len(fake_rasa[0].received) == 1  # nothing reached the bot after the handoff
    assert await count(client, Ticket, conversation_id=cid) == 1
    async with client.app[SERVICES].sessions() as session:
        ticket = await session.scalar(select(Ticket).filter_by(conversation_id=cid))
        assert ticket is not None
        assert (ticket.status, ticket.reason, ticket.priority) == ("waiting", "frustration", "high")
        event = await session.scalar(select(Event).filter_by(conversation_id=cid, kind="handoff"))
        assert event is not None and (event.actor, event.from_mode, event.to_mode) == (
            "bot", "bot", "queued",
        )  # fmt: skip


async def test_rasa_failing_hands_the_customer_to_a_person(client: TestClient) -> None:
    cid, auth = await start(client)
    await send(client, cid, auth, "please fail", "m1")
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "queued"
    notice = body["messages"][1]
    assert notice["role"] == "system" and "passing our conversation to a person" in notice["text"]
    async with client.app[SERVICES].sessions() as session:
        ticket = await session.scalar(select(Ticket).filter_by(conversation_id=cid))
        assert ticket is not None and ticket.reason == "bot_unavailable"
        assert "please fail" in ticket.brief["summary"]


async def test_rasa_answering_nothing_hands_the_customer_to_a_person(client: TestClient) -> None:
    cid, auth = await start(client)
    await send(client, cid, auth, "please say nothing", "m1")
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "queued"
    async with client.app[SERVICES].sessions() as session:
        ticket = await session.scalar(select(Ticket).filter_by(conversation_id=cid))
    assert ticket is not None and "gave no answer" in ticket.brief["summary"]


async def test_the_bot_unavailable_brief_counts_what_the_bot_answered_before(
    client: TestClient,
) -> None:
    cid, auth = await start(client)
    for number, text in enumerate(["how much is shipping", "and to Alaska?", "please fail"]):
        await send(client, cid, auth, text, f"m{number}")
        await wait_for(client, cid, auth, 2 * (number + 1))
    ticket = await ticket_of(client, cid)
    assert ticket.reason == "bot_unavailable" and ticket.brief["bot_answers"] == 2
    assert "The customer asked 2 questions before" in ticket.brief["summary"]


async def test_the_bot_unavailable_brief_tells_the_whole_conversation_from_the_transcript(
    client: TestClient,
) -> None:
    """Four answered questions, then a failure: the brief lists what was asked and answered
    (issue 12, item 6), it does not say the bot answered nothing."""
    questions = ["how much is shipping", "and to Alaska?", "where is my order", "can I return it"]
    cid, auth = await start(client)
    for number, text in enumerate([*questions, "please fail"]):
        await send(client, cid, auth, text, f"m{number}")
        await wait_for(client, cid, auth, 2 * (number + 1))
    brief = (await ticket_of(client, cid)).brief
    assert [a["asked"] for a in brief["answered"]] == questions
    assert [a["answer"] for a in brief["answered"]] == [f"echo: {q}" for q in questions]
    assert [a["turn"] for a in brief["answered"]] == [1, 2, 3, 4]
    assert 'The customer asked 4 questions before: "how much is shipping", ' in brief["summary"]
    assert "nothing" not in brief["summary"].lower()


async def test_a_bot_answering_in_circles_hands_over_instead_of_repeating_itself(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    """Rasa's prediction loop (a run of identical fallbacks) is a failure, not ten answers."""
    cid, auth = await start(client)
    fake_rasa[0].tracker(cid).listening = False  # a tracker left where no rule matches
    await send(client, cid, auth, "how much is shipping", "m1")
    body = await wait_until(client, cid, auth, lambda b: b["mode"] == "queued")
    assert texts(body, "bot") == []
    assert (await ticket_of(client, cid)).reason == "bot_unavailable"


async def test_action_server_down_hands_the_customer_to_a_person(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    fake_rasa[0].actions_down = True  # Rasa would answer "sorry, I didn't understand" forever
    await client.app[TURNS].actions.check(client.app[TURNS].rasa)
    cid, auth = await start(client)
    await send(client, cid, auth, "how much is shipping", "m1")
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "queued"
    assert fake_rasa[0].received == []  # not sent to a bot that can't act
    fake_rasa[0].actions_down = False
    await client.app[TURNS].actions.check(client.app[TURNS].rasa)
    assert client.app[TURNS].actions.healthy


async def test_rasa_timing_out_hands_the_customer_to_a_person(client: TestClient) -> None:
    cid, auth = await start(client)
    await send(client, cid, auth, "please hang", "m1")
    body = await wait_for(client, cid, auth, 2)
    assert body["mode"] == "queued"
    assert body["messages"][0]["text"] == "please hang"  # nothing the customer wrote is lost


async def test_ws_acknowledges_after_commit_and_pushes_the_answer(client: TestClient) -> None:
    cid, auth = await start(client)
    token = auth["Authorization"].removeprefix("Bearer ")
    async with client.ws_connect(f"/api/conversations/{cid}/ws") as ws:
        await ws.send_json({"type": "hello", "token": token, "since_seq": 0})
        assert await ws.receive_json(timeout=5) == {"type": "mode", "mode": "bot", "language": "en"}
        await ws.send_json({"type": "message", "client_msg_id": "w1", "text": "hi there"})
        frames = [await ws.receive_json(timeout=5) for _ in range(3)]
    kinds = {(f["type"], f.get("role")) for f in frames}
    assert kinds == {("message", "customer"), ("ack", None), ("message", "bot")}
    [ack] = [f for f in frames if f["type"] == "ack"]
    assert (ack["client_msg_id"], ack["seq"]) == ("w1", 1)
    assert await count(client, Message, conversation_id=cid, client_msg_id="w1") == 1


async def test_ws_reconnect_replays_exactly_the_missed_messages(client: TestClient) -> None:
    cid, auth = await start(client)
    token = auth["Authorization"].removeprefix("Bearer ")
    for i in range(2):
        await send(client, cid, auth, f"q{i}", f"m{i}")
        await wait_for(client, cid, auth, 2 * (i + 1))  # the answer, before the next question
    async with client.ws_connect(f"/api/conversations/{cid}/ws") as ws:
        await ws.send_json({"type": "hello", "token": token, "since_seq": 2})
        frames = [await ws.receive_json(timeout=5) for _ in range(3)]
    assert frames[0] == {"type": "mode", "mode": "bot", "language": "en"}
    assert [(f["seq"], f["text"]) for f in frames[1:]] == [(3, "q1"), (4, "echo: q1")]


async def test_ws_rejects_foreign_origin(client: TestClient) -> None:
    cid, _ = await start(client)
    response = await client.get(
        f"/api/conversations/{cid}/ws",
        headers={
            "Origin": "https://evil.example",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 403
    async with client.ws_connect(
        f"/api/conversations/{cid}/ws", headers={"Origin": "https://shop.example"}
    ) as ws:
        await ws.send_json({"type": "hello", "token": "wrong", "since_seq": 0})
        await ws.receive(timeout=5)
        assert ws.close_code == 4401  # allowed origin, but the token is still checked


async def test_ws_frame_errors_are_reported_and_nothing_is_stored(client: TestClient) -> None:
    cid, auth = await start(client)
    token = auth["Authorization"].removeprefix("Bearer ")
    async with client.ws_connect(f"/api/conversations/{cid}/ws") as ws:
        await ws.send_json({"type": "hello", "token": token})
        await ws.receive_json(timeout=5)
        await ws.send_str("{not json")
        await ws.send_json({"type": "message", "client_msg_id": "w1", "text": "y" * 501})
        errors = [await ws.receive_json(timeout=5) for _ in range(2)]
    assert [e["error"] for e in errors] == ["invalid_json", "message_too_long"]
    assert await count(client, Message, conversation_id=cid) == 0


async def test_database_down_gives_a_clear_error_and_acknowledges_nothing(
    client: TestClient,
) -> None:
    cid, auth = await start(client)
    services = client.app[SERVICES]
    original = services.sessions
    # a database nobody listens on, as when the real one goes down
    broken = create_engine_for_test("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    services.sessions = broken
    try:
        response = await send(client, cid, auth, "is anyone there", "m1")
        assert response.status == 503
        assert (await response.json())["error"] == "unavailable"
    finally:
        services.sessions = original
        await broken.kw["bind"].dispose()
    assert await count(client, Message, conversation_id=cid) == 0
    retried = await send(client, cid, auth, "is anyone there", "m1")  # the retry is stored
    assert retried.status == 201


def create_engine_for_test(url: str) -> Any:
    from bot.db.engine import create_engine, session_factory

    return session_factory(create_engine(url))


async def test_websockets_are_capped_per_conversation_and_per_address(
    aiohttp_client: Any, database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> None:
    """The probe held 300 sockets on one conversation and 200 that never said hello."""
    settings = settings_for(
        database_url, fake_rasa[1], SOCKETS_PER_CONVERSATION="2", SOCKETS_PER_ADDRESS="4"
    )
    client: TestClient = await aiohttp_client(create_app(settings))
    cid, auth = await start(client)
    hello = {"type": "hello", "token": auth["Authorization"].removeprefix("Bearer ")}
    path = f"/api/conversations/{cid}/ws"
    tabs = []
    for _ in range(2):
        tabs.append(await client.ws_connect(path))
        await tabs[-1].send_json(hello)
        assert (await tabs[-1].receive_json(timeout=5))["type"] == "mode"
    third = await client.ws_connect(path)
    await third.send_json(hello)
    await third.receive(timeout=5)
    assert third.close_code == 4429  # a third tab of one conversation: it polls instead
    silent = [await client.ws_connect(path) for _ in range(2)]  # no hello yet: 4 from here
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(path)
    assert refused.value.status == 429
    await silent.pop().close()
    await tabs.pop().close()
    again = await client.ws_connect(path)  # room again, for the address and the conversation
    await again.send_json(hello)
    assert (await again.receive_json(timeout=5))["type"] == "mode"
    for socket in [*tabs, *silent, again]:
        await socket.close()
