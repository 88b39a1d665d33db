"""The queue and one conversation on the desk, through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.conversations.lifecycle import Work
from bot.db.models import Conversation, Event, Note, Satisfaction, utcnow
from bot.desk.queue import release_expired_leases
from bot.desk.staff import deactivate
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
    texts,
    ticket_of,
    wait_for,
    wait_until,
)


async def test_queue_orders_high_priority_first_then_longest_waiting(client: TestClient) -> None:
    agent = await sign_in(client, "fay")
    first, _ = await queued(client, "please fail")  # bot_unavailable, normal priority
    second, _ = await queued(client, "please fail")
    urgent, _ = await queued(client, "hand me over")  # high priority
    body = await agent.json("GET", "/desk/api/queue")
    assert [t["conversation_id"] for t in body["waiting"]] == [urgent, first, second]


async def test_ten_agents_claim_one_ticket_exactly_one_wins(client: TestClient) -> None:
    agents = [await sign_in(client, f"agent{i}") for i in range(10)]
    cid, _ = await queued(client)
    ticket = await ticket_of(client, cid)
    responses = await asyncio.gather(
        *(a.post(f"/desk/api/tickets/{ticket.id}/claim") for a in agents)
    )
    assert sorted(r.status for r in responses) == [200] + [409] * 9
    assert await count(client, Event, conversation_id=cid, kind="claimed") == 1
    async with client.app[SERVICES].sessions() as session:
        conversation = await session.get(Conversation, cid)
    assert conversation is not None and conversation.mode == "assigned"


async def test_agent_cannot_hold_more_conversations_than_their_limit(client: TestClient) -> None:
    agent = await sign_in(client, "gil", limit=1)
    tickets = [await ticket_of(client, (await queued(client))[0]) for _ in range(2)]
    assert (await agent.post(f"/desk/api/tickets/{tickets[0].id}/claim")).status == 200
    over = await agent.post(f"/desk/api/tickets/{tickets[1].id}/claim")
    assert over.status == 409 and "limit 1" in (await over.json())["message"]


async def test_agent_cannot_read_or_write_another_agents_conversation(client: TestClient) -> None:
    owner, other = await sign_in(client, "hal"), await sign_in(client, "ida")
    cid, _ = await claimed(client, owner)
    for path, body in [
        (f"/desk/api/conversations/{cid}/messages", {"text": "hi"}),
        (f"/desk/api/conversations/{cid}/notes", {"text": "hi"}),
        (f"/desk/api/conversations/{cid}/return", {}),
        (f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"}),
        (f"/desk/api/conversations/{cid}/transfer", {"to_team": "billing"}),
        (f"/desk/api/conversations/{cid}/grants",
         {"kind": "credit", "order_id": "1", "amount_cents": 1, "reason": "x"}),
    ]:  # fmt: skip
        assert (await other.post(path, body)).status == 403, path
    assert (await other.get(f"/desk/api/conversations/{cid}")).status == 403
    supervisor = await sign_in(client, "sue", role="supervisor")
    assert (await supervisor.get(f"/desk/api/conversations/{cid}")).status == 200


async def test_agent_and_customer_talk_and_the_bot_stays_silent(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    agent = await sign_in(client, "jo")
    cid, auth = await claimed(client, agent)
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert view["brief"]["reason"] == "frustration" and view["mode"] == "assigned"
    transcript = {"messages": view["transcript"]}
    assert texts(transcript, "customer") == ["hand me over"]
    assert texts(transcript)[-1] == "Jo from Customer Care has joined the chat."
    await agent.json(
        "POST", f"/desk/api/conversations/{cid}/messages", {"text": "Hi, I'm Jo."}, 201
    )
    await send(client, cid, auth, "thanks Jo", "m2")
    body = await wait_until(client, cid, auth, lambda b: "thanks Jo" in texts(b))
    replies = [(m["role"], m["text"]) for m in body["messages"] if m["role"] != "system"]
    assert replies[-2:] == [("agent", "Hi, I'm Jo."), ("customer", "thanks Jo")]
    assert next(m for m in body["messages"] if m["role"] == "agent")["agent"] == "Jo"
    await client.app[TURNS].drain()  # the turn "thanks Jo" started has finished
    assert len(fake_rasa[0].received) == 1  # only the message before the handoff


async def test_private_note_is_never_shown_to_the_customer(client: TestClient) -> None:
    agent = await sign_in(client, "kit")
    cid, auth = await claimed(client, agent)
    secret = "customer sounded upset; check the 2 earlier late deliveries"
    await agent.json("POST", f"/desk/api/conversations/{cid}/notes", {"text": secret}, 201)
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert [n["text"] for n in view["notes"]] == [secret] and view["notes"][0]["author"] == "Kit"
    assert secret not in texts(await poll(client, cid, auth))
    token = auth["Authorization"].removeprefix("Bearer ")
    async with client.ws_connect(f"/api/conversations/{cid}/ws") as ws:
        await ws.send_json({"type": "hello", "token": token, "since_seq": 0})
        frames = [await ws.receive_json(timeout=5) for _ in range(5)]  # mode + 4 messages
        await agent.json("POST", f"/desk/api/conversations/{cid}/notes", {"text": secret}, 201)
        await agent.json("POST", f"/desk/api/conversations/{cid}/messages", {"text": "ok"}, 201)
        frames.append(await ws.receive_json(timeout=5))
    assert frames[-1]["text"] == "ok"  # the reply arrived, the note before it did not
    assert secret not in str(frames)
    assert await count(client, Note, conversation_id=cid) == 2


async def test_silent_agents_claim_returns_to_the_queue(client: TestClient) -> None:
    agent = await sign_in(client, "kim")
    cid, _ = await claimed(client, agent)
    async with client.app[SERVICES].work() as work:
        assert await release_expired_leases(work) == []  # still within the lease
        later = Work(work.session, work.now + timedelta(hours=1))
        released = await release_expired_leases(later)
    assert released == [cid]
    ticket = await ticket_of(client, cid)
    assert (ticket.status, ticket.agent_id) == ("waiting", None)
    late = await agent.post(f"/desk/api/conversations/{cid}/messages", {"text": "hi"})
    assert late.status == 409


async def test_heartbeat_keeps_the_claim(client: TestClient) -> None:
    agent = await sign_in(client, "lou")
    cid, _ = await claimed(client, agent)
    ticket = await ticket_of(client, cid)
    await agent.json("POST", f"/desk/api/tickets/{ticket.id}/heartbeat")
    renewed = await ticket_of(client, cid)
    assert renewed.lease_expires_at and ticket.lease_expires_at
    assert renewed.lease_expires_at >= ticket.lease_expires_at


async def test_deactivated_agent_is_signed_out_and_their_conversations_requeued(
    client: TestClient,
) -> None:
    agent = await sign_in(client, "mo")
    cid, _ = await claimed(client, agent)
    async with client.app[SERVICES].sessions.begin() as session:
        _, released = await deactivate(session, "mo", utcnow())
    assert released == [cid]
    assert (await agent.get("/desk/api/me")).status == 401
    assert (await ticket_of(client, cid)).status == "waiting"


async def test_return_to_bot_resumes_rasa_with_the_outcome_and_the_bot_confirms(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    agent = await sign_in(client, "lee")
    cid, auth = await claimed(client, agent)
    bad = await agent.post(f"/desk/api/conversations/{cid}/return", {"outcome": "whatever"})
    assert bad.status == 409
    body = await agent.json(
        "POST", f"/desk/api/conversations/{cid}/return", {"outcome": "credited"}
    )
    assert body["slots"] == {"handoff_outcome": "credited", "remedy_summary": None}
    events = fake_rasa[0].tracker_events[cid]
    assert events[0] == {"event": "resume"}
    assert {"event": "slot", "name": "handoff_outcome", "value": "credited"} in events
    assert fake_rasa[0].triggered == [(cid, "action_handed_back")]
    confirmed = await wait_until(client, cid, auth, lambda b: "confirmed" in str(texts(b)))
    assert texts(confirmed)[-1] == "confirmed: credited / None"
    assert confirmed["mode"] == "bot"
    await send(client, cid, auth, "one more question", "m2")
    after = await wait_until(client, cid, auth, lambda b: "echo: one more question" in texts(b))
    assert texts(after)[-1] == "echo: one more question"
    assert (await ticket_of(client, cid)).wrap_up == "credited"


async def test_return_to_bot_when_rasa_is_down_keeps_the_conversation_with_the_person(
    client: TestClient, fake_rasa: tuple[FakeRasa, int]
) -> None:
    agent = await sign_in(client, "liz")
    cid, _ = await claimed(client, agent)
    fake_rasa[0].refuse_admin = True
    response = await agent.post(f"/desk/api/conversations/{cid}/return", {"outcome": "resolved"})
    assert response.status == 502
    assert (await ticket_of(client, cid)).status == "assigned"


async def test_resolve_asks_the_satisfaction_question_and_a_typed_score_answers_it(
    client: TestClient,
) -> None:
    agent = await sign_in(client, "max")
    cid, auth = await claimed(client, agent)
    bad = await agent.post(f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "whatever"})
    assert bad.status == 409
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    body = await poll(client, cid, auth)
    assert body["mode"] == "closed"
    assert body["messages"][-1]["survey"] == "csat"
    assert (await send(client, cid, auth, "4", "m9")).status == 201
    async with client.app[SERVICES].sessions() as session:
        rated = await session.get(Satisfaction, cid)
    assert rated is not None and (rated.score, rated.handled_by) == (4, "agent")
    assert (await poll(client, cid, auth))["mode"] == "closed"


async def test_transfer_to_a_colleague_moves_the_claim_and_tells_the_customer(
    client: TestClient,
) -> None:
    ana, bo = await sign_in(client, "ana"), await sign_in(client, "bo")
    cid, auth = await claimed(client, ana)
    await ana.json("POST", f"/desk/api/conversations/{cid}/transfer", {"to_agent": "bo"})
    ticket = await ticket_of(client, cid)
    assert ticket.status == "assigned"
    assert (await bo.get(f"/desk/api/conversations/{cid}")).status == 200
    assert (await ana.get(f"/desk/api/conversations/{cid}")).status == 403
    assert "Bo from Customer Care is taking over" in texts(await poll(client, cid, auth))[-1]


async def test_transfer_to_a_colleague_at_their_limit_is_refused(client: TestClient) -> None:
    ana, bo = await sign_in(client, "ana"), await sign_in(client, "bo", limit=1)
    await claimed(client, bo)
    cid, _ = await claimed(client, ana)
    response = await ana.post(f"/desk/api/conversations/{cid}/transfer", {"to_agent": "bo"})
    assert response.status == 409 and "limit 1" in (await response.json())["message"]
    assert (await ticket_of(client, cid)).agent_id is not None


async def test_transfer_to_a_team_requeues_it_marked_for_the_team(client: TestClient) -> None:
    ana = await sign_in(client, "ana")
    pharmacist = await sign_in(client, "pia", team="pharmacy")
    cid, _ = await claimed(client, ana)
    unknown = await ana.post(f"/desk/api/conversations/{cid}/transfer", {"to_team": "nope"})
    assert unknown.status == 409
    await ana.json("POST", f"/desk/api/conversations/{cid}/transfer", {"to_team": "pharmacy"})
    waiting = (await pharmacist.json("GET", "/desk/api/queue"))["waiting"]
    assert [(w["conversation_id"], w["team"]) for w in waiting] == [(cid, "pharmacy")]
    ticket = await ticket_of(client, cid)
    await pharmacist.json("POST", f"/desk/api/tickets/{ticket.id}/claim")
    assert await count(client, Event, conversation_id=cid, kind="transferred") == 1


async def test_escalation_reaches_supervisors_who_join_and_write(client: TestClient) -> None:
    agent, boss = await sign_in(client, "ray"), await sign_in(client, "sam", role="supervisor")
    cid, auth = await claimed(client, agent)
    note = "asks for compensation beyond my limit; pet was ill"
    await agent.json("POST", f"/desk/api/conversations/{cid}/escalate", {"note": note})
    again = await agent.post(f"/desk/api/conversations/{cid}/escalate", {"note": note})
    assert again.status == 409
    escalated = (await boss.json("GET", "/desk/api/mine"))["escalated"]
    assert [(e["conversation_id"], e["escalation_note"]) for e in escalated] == [(cid, note)]
    await boss.json("POST", f"/desk/api/conversations/{cid}/join")
    await boss.json("POST", f"/desk/api/conversations/{cid}/messages", {"text": "I'm Sam."}, 201)
    body = await poll(client, cid, auth)
    assert texts(body)[-2:] == [
        "Sam, a Customer Care supervisor, has joined the chat.",
        "I'm Sam.",
    ]
    assert (await boss.json("GET", "/desk/api/stats"))["escalated"] == 1


async def test_every_transition_has_an_attributable_event(client: TestClient) -> None:
    agent = await sign_in(client, "una")
    cid, _ = await claimed(client, agent)
    await agent.json("POST", f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"})
    async with client.app[SERVICES].sessions() as session:
        events = list(
            await session.scalars(select(Event).filter_by(conversation_id=cid).order_by(Event.id))
        )
    assert [(e.kind, e.actor, e.from_mode, e.to_mode) for e in events] == [
        ("started", "customer", None, "bot"),
        ("handoff", "bot", "bot", "queued"),
        ("claimed", "una", "queued", "assigned"),
        ("closed", "una", "assigned", "closed"),
    ]
    assert all(e.created_at is not None for e in events)


async def test_a_message_racing_the_close_is_never_dropped(client: TestClient) -> None:
    agent = await sign_in(client, "vic")
    cid, auth = await claimed(client, agent)
    resolved, sent = await asyncio.gather(
        agent.post(f"/desk/api/conversations/{cid}/resolve", {"wrap_up": "resolved"}),
        send(client, cid, auth, "oh wait, one more thing", "race"),
    )
    assert resolved.status == 200 and sent.status == 201
    body = await wait_for(client, cid, auth, 1)
    assert "oh wait, one more thing" in texts(body, "customer")
