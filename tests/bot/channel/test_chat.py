"""A customer waiting for a person: where they stand, going back to the bot, a call back, the
satisfaction score. Through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.db.models import CallbackRequest, Event, Satisfaction
from bot.rasa.turn import TURNS
from bot.services import SERVICES
from tests.bot.conftest import FakeRasa
from tests.bot.helpers import (
    claimed,
    count,
    poll,
    queued,
    send,
    sign_in,
    start,
    texts,
    ticket_of,
    wait_until,
)

# 3 am in New York: the desk is closed (policy.yml desk.hours)
NIGHT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


async def hello(
    client: TestClient, cid: str, auth: dict[str, str]
) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect(f"/api/conversations/{cid}/ws")
    await ws.send_json({"type": "hello", "token": auth["Authorization"].removeprefix("Bearer ")})
    return ws


async def next_frame(ws: aiohttp.ClientWebSocketResponse, **match: Any) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=5)
        if all(frame.get(k) == v for k, v in match.items()):
            return frame


async def test_waiting_customer_sees_place_and_wait_and_they_update_live(
    client: TestClient,
) -> None:
    agent = await sign_in(client, "ann", limit=1)  # one seat: the second waits for it
    async with client.ws_connect("/desk/ws", headers={"Cookie": agent.headers()["Cookie"]}):
        first, _ = await queued(client)
        second, auth = await queued(client)
        ws = await hello(client, second, auth)
        status = await next_frame(ws, type="queue")
        assert (status["position"], status["waiting"], status["agents_online"]) == (2, 2, 1)
        assert status["availability"] == "open"
        # the free seat goes to the first; the second waits one conversation of the default
        # handle time (6 minutes), give or take half
        assert status["estimated_wait_seconds"] == 360
        assert status["estimated_wait_range"] == [180, 360, 540]
        await agent.json("POST", f"/desk/api/tickets/{(await ticket_of(client, first)).id}/claim")
        moved = await next_frame(ws, type="queue", position=1)
        assert moved["waiting"] == 1
        # first in line, but the one seat is taken: still one conversation's time
        assert moved["estimated_wait_range"] == [180, 360, 540]
        await ws.close()
    http = await client.get(f"/api/conversations/{second}/queue", headers=auth)
    assert (await http.json())["position"] == 1


async def test_customer_goes_back_to_the_bot_while_waiting(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    cid, auth = await queued(client)
    response = await client.post(f"/api/conversations/{cid}/back-to-bot", headers=auth)
    assert response.status == 200
    assert fake_rasa[0].tracker_events[cid][0] == {"event": "resume"}
    body = await poll(client, cid, auth)
    assert (
        body["mode"] == "bot" and "You're back with the Fetch & Home assistant" in texts(body)[-1]
    )
    assert (await ticket_of(client, cid)).wrap_up == "customer_back_to_bot"
    await send(client, cid, auth, "what are your hours", "m2")
    after = await wait_until(client, cid, auth, lambda b: texts(b)[-1].startswith("echo"))
    assert texts(after)[-1] == "echo: what are your hours"


async def test_going_back_to_the_bot_once_a_person_has_it_is_refused(client: TestClient) -> None:
    agent = await sign_in(client, "bea")
    cid, auth = await claimed(client, agent)
    response = await client.post(f"/api/conversations/{cid}/back-to-bot", headers=auth)
    assert response.status == 409
    assert (await ticket_of(client, cid)).status == "assigned"


async def test_out_of_hours_handoff_says_so_and_the_call_back_reaches_agents(
    client: TestClient,
) -> None:
    client.app[SERVICES].now = lambda: NIGHT
    cid, auth = await queued(client)
    body = await wait_until(client, cid, auth, lambda b: b["messages"][-1]["role"] == "system")
    notice = body["messages"][-1]
    assert "offline right now (we're here 7 am-11 pm ET, every day)" in notice["text"]
    assert notice["callback"] is True and notice["availability"] == "out_of_hours"
    contact = {"name": "Maya", "phone": "+1 614 555 0141", "note": "after 5pm please"}
    saved = await client.post(f"/api/conversations/{cid}/callback", json=contact, headers=auth)
    assert saved.status == 201
    assert "we've saved your details" in texts(await poll(client, cid, auth))[-1]
    agent = await sign_in(client, "cal")
    [waiting] = (await agent.json("GET", "/desk/api/queue"))["waiting"]
    assert waiting["callback"]["phone"] == "+1 614 555 0141"
    assert waiting["customer"] is None  # a guest: the card shows the name left, if any
    await agent.json("POST", f"/desk/api/tickets/{waiting['ticket_id']}/claim")
    # the agent who claimed still has the details and the note
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["callback"]["phone"] == "+1 614 555 0141"
    assert view["callback"]["note"] == "after 5pm please"
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "called_back"})
    async with client.app[SERVICES].sessions() as session:
        request = await session.scalar(select(CallbackRequest).filter_by(conversation_id=cid))
    assert request is not None and request.status == "done"


async def test_call_back_needs_an_e_mail_or_a_phone_number(client: TestClient) -> None:
    cid, auth = await queued(client)
    for contact, error in [
        ({"name": "Maya"}, "leave an e-mail address or a phone number"),
        ({"email": "not-an-address"}, "doesn't look like an e-mail address"),
        ({"phone": "call me"}, "doesn't look like a phone number"),
        ({"email": 5}, "email must be a string"),
        ([], "expected a JSON object"),
    ]:
        response = await client.post(
            f"/api/conversations/{cid}/callback", json=contact, headers=auth
        )
        assert response.status == 400, contact
        assert error in (await response.json())["message"]
    assert await count(client, CallbackRequest, conversation_id=cid) == 0


async def test_call_back_with_control_characters_is_refused(client: TestClient) -> None:
    cid, auth = await queued(client)
    for contact in [
        {"email": "maya@example.com", "note": "call\x1b[2J after 5"},
        {"email": "maya@example.com", "name": "Maya\x00"},
        {"email": "ma\x7fya@example.com"},
    ]:
        response = await client.post(
            f"/api/conversations/{cid}/callback", json=contact, headers=auth
        )
        assert response.status == 400, contact
        assert "control characters" in (await response.json())["message"]
    assert await count(client, CallbackRequest, conversation_id=cid) == 0


async def test_call_back_for_a_conversation_not_waiting_is_refused(client: TestClient) -> None:
    cid, auth = await start(client)
    response = await client.post(
        f"/api/conversations/{cid}/callback", json={"email": "a@b.example"}, headers=auth
    )
    assert response.status == 409


async def test_satisfaction_score_is_recorded_once_and_says_who_helped(client: TestClient) -> None:
    cid, auth = await start(client)  # a bot-only conversation
    for score in (0, 6, "5", True):
        bad = await client.post(
            f"/api/conversations/{cid}/satisfaction", json={"score": score}, headers=auth
        )
        assert bad.status == 400, score
    first = await client.post(
        f"/api/conversations/{cid}/satisfaction", json={"score": 5}, headers=auth
    )
    again = await client.post(
        f"/api/conversations/{cid}/satisfaction", json={"score": 1}, headers=auth
    )
    assert (first.status, again.status) == (201, 200)
    async with client.app[SERVICES].sessions() as session:
        rated = await session.get(Satisfaction, cid)
    assert rated is not None and (rated.score, rated.handled_by) == (5, "bot")


async def test_a_message_after_the_close_reopens_the_conversation_with_the_bot(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    agent = await sign_in(client, "dan")
    cid, auth = await claimed(client, agent)
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    await send(client, cid, auth, "actually, can I change my address?", "m5")
    body = await wait_until(client, cid, auth, lambda b: texts(b)[-1].startswith("echo"))
    assert body["mode"] == "bot"
    assert texts(body)[-1] == "echo: actually, can I change my address?"
    assert texts(body, "bot")[-2:] == ["A person will take over.", texts(body)[-1]]  # only one
    # un-paused once, listening, in a new session: as a fresh conversation would be
    tracker = fake_rasa[0].trackers[cid]
    assert (tracker.resumes, tracker.sessions, tracker.paused) == (1, 2, False)
    assert fake_rasa[0].tracker_events[cid][-1] == {"event": "action", "name": "action_listen"}
    assert await count(client, Event, conversation_id=cid, kind="reopened") == 1


async def test_going_back_to_the_bot_leaves_it_listening_in_the_same_session(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    cid, auth = await queued(client)
    assert (await client.post(f"/api/conversations/{cid}/back-to-bot", headers=auth)).status == 200
    await send(client, cid, auth, "how much is shipping", "m2")
    body = await wait_until(client, cid, auth, lambda b: texts(b)[-1].startswith("echo"))
    assert texts(body)[-1] == "echo: how much is shipping"
    tracker = fake_rasa[0].trackers[cid]
    assert (tracker.resumes, tracker.sessions, tracker.listening) == (1, 1, True)


async def test_messages_beyond_the_rate_limit_are_refused_with_retry_after(
    client: TestClient,
) -> None:
    cid, auth = await start(client)
    limit = client.app[SERVICES].settings.rate_messages_per_conversation
    statuses = [
        (await send(client, cid, auth, f"hi {i}", f"r{i}")).status for i in range(limit + 2)
    ]
    assert statuses[:limit] == [201] * limit and statuses[limit:] == [429, 429]
    refused = await send(client, cid, auth, "again", "rx")
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await refused.json())["error"] == "rate_limited"


async def test_call_backs_beyond_the_rate_limit_are_refused(client: TestClient) -> None:
    """The probe left 100 call-backs in 1.2 s: 100 messages, and 101 queue reloads per desk."""
    cid, auth = await queued(client)
    limit = client.app[SERVICES].settings.rate_callbacks_per_conversation
    statuses = [
        (await client.post(f"/api/conversations/{cid}/callback", headers=auth,
                           json={"email": f"maya{i}@example.com"})).status
        for i in range(limit + 2)
    ]  # fmt: skip
    assert statuses == [201] * limit + [429, 429]
    body = await poll(client, cid, auth)
    saved = client.app[SERVICES].policy.message("callback_saved")
    assert texts(body).count(saved) == limit


async def test_starting_conversations_is_rate_limited_per_address(client: TestClient) -> None:
    limit = client.app[SERVICES].settings.rate_starts_per_address
    statuses = [(await client.post("/api/conversations", json={})).status for _ in range(limit + 1)]
    assert statuses[-1] == 429 and statuses[:-1] == [201] * limit


async def test_a_score_after_a_second_resolve_answers_the_survey_not_the_bot(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    """The first score stands, but a later one is still an answer to the question just asked:
    it must not reopen the chat and reach the bot as a message."""
    agent = await sign_in(client, "dan")
    cid, auth = await claimed(client, agent)
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    await send(client, cid, auth, "4", "s1")
    await send(client, cid, auth, "hand me over", "m2")
    await wait_until(client, cid, auth, lambda b: b["mode"] == "queued")
    ticket = await ticket_of(client, cid)
    await agent.json("POST", f"/desk/api/tickets/{ticket.id}/claim")
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    await send(client, cid, auth, "5", "s2")
    await client.app[TURNS].drain()  # any turn the score started has finished
    body = await poll(client, cid, auth)
    assert body["mode"] == "closed"
    assert texts(body)[-1] == "5" and "echo: 5" not in texts(body)
    async with client.app[SERVICES].sessions() as session:
        rated = await session.get(Satisfaction, cid)
    assert rated is not None and rated.score == 4


@pytest.mark.parametrize(
    ("language", "left"), [("en", "has left the chat."), ("vi", "đã rời cuộc trò chuyện.")]
)
async def test_on_resolve_the_customer_is_told_the_person_has_left_before_the_survey(
    client: TestClient, language: str, left: str
) -> None:
    agent = await sign_in(client, "eve")
    cid, auth = await claimed(client, agent, language=language)
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    body = await poll(client, cid, auth)
    notice, question = body["messages"][-2:]
    assert notice["role"] == "system" and notice["text"].endswith(left)
    assert "{name}" not in notice["text"] and len(notice["text"]) > len(left)
    assert question["survey"] == "csat"
