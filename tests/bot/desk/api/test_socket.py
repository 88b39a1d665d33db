"""The desk's websocket: live queue, watched conversations, typing, and who may watch what."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.conversations.hub import Hub
from bot.db.models import User
from bot.desk import presence
from bot.desk.api.socket import DeskSockets
from bot.services import DESK_DETACH
from tests.bot.conversations.test_hub import Socket, redis_url
from tests.bot.helpers import Agent, claimed, queued, send, sign_in


async def next_frame(ws: aiohttp.ClientWebSocketResponse, **match: Any) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=5)
        if all(frame.get(k) == v for k, v in match.items()):
            return frame


def desk_ws(client: TestClient, agent: Agent) -> Any:
    return client.ws_connect("/desk/ws", headers={"Cookie": agent.headers()["Cookie"]})


async def test_desk_socket_hears_queue_changes_and_watched_conversations(
    client: TestClient,
) -> None:
    agent = await sign_in(client, "ann")
    async with desk_ws(client, agent) as ws:
        cid, auth = await queued(client)
        await next_frame(ws, type="queue")
        await agent.json("POST", "/desk/api/tickets/1/claim")
        await ws.send_json({"watch": cid})
        await next_frame(ws, type="watching", conversation_id=cid)
        await send(client, cid, auth, "are you there?", "m2")
        message = await next_frame(ws, type="message", role="customer")
        assert (message["conversation_id"], message["text"]) == (cid, "are you there?")


async def test_typing_shows_on_both_sides_and_is_not_stored(client: TestClient) -> None:
    agent = await sign_in(client, "bob")
    cid, auth = await claimed(client, agent)
    token = auth["Authorization"].removeprefix("Bearer ")
    async with (
        desk_ws(client, agent) as desk,
        client.ws_connect(f"/api/conversations/{cid}/ws") as customer,
    ):
        await customer.send_json({"type": "hello", "token": token})
        await desk.send_json({"watch": cid})
        await next_frame(desk, type="watching")
        await customer.send_json({"type": "typing"})
        assert (await next_frame(desk, type="typing"))["role"] == "customer"
        await desk.send_json({"typing": cid})
        typing = await next_frame(customer, type="typing", role="agent")
        assert typing["name"] == "Bob"
    view = await agent.json("GET", f"/desk/api/conversations/{cid}")
    assert all(m.get("type") == "message" for m in view["transcript"])


async def test_watching_or_typing_into_another_agents_conversation_is_refused(
    client: TestClient,
) -> None:
    owner, other = await sign_in(client, "cat"), await sign_in(client, "dan")
    cid, _ = await claimed(client, owner)
    async with desk_ws(client, other) as ws:
        for frame in ({"watch": cid}, {"typing": cid}):
            await ws.send_json(frame)
            refused = await next_frame(ws, type="error")
            assert refused["error"] == "forbidden"
        await ws.send_str("not json")
        assert (await next_frame(ws, type="error"))["error"] == "invalid_frame"


async def test_desk_socket_from_a_foreign_origin_is_refused(client: TestClient) -> None:
    agent = await sign_in(client, "eve")
    response = await client.get(
        "/desk/ws",
        headers={"Cookie": agent.headers()["Cookie"], "Origin": "https://evil.example",
                 "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
    )  # fmt: skip
    assert response.status == 403


async def test_a_transferred_conversation_stops_reaching_the_agent_who_gave_it_away(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "REFRESH_SECONDS", 0.1)
    ana, bo = await sign_in(client, "ana"), await sign_in(client, "bo")
    cid, auth = await claimed(client, ana)
    async with desk_ws(client, ana) as ws:
        await ws.send_json({"watch": cid})
        await next_frame(ws, type="watching")
        await ana.json("POST", f"/desk/api/conversations/{cid}/transfer", {"to_agent": "bo"})
        assert (await next_frame(ws, type="unwatched"))["conversation_id"] == cid
        await send(client, cid, auth, "is Bo there?", "m7")
        await bo.json("POST", f"/desk/api/conversations/{cid}/messages", {"text": "Yes!"}, 201)
        with pytest.raises(TimeoutError):
            await next_frame(ws, type="message")  # nothing more of it reaches Ana


@pytest.mark.parametrize(
    "transfer", [{"to_team": "billing"}, {"to_agent": "flo"}], ids=["to_team", "to_agent"]
)
async def test_a_transfer_detaches_the_old_agents_socket_at_once(
    client: TestClient, transfer: dict[str, str]
) -> None:
    """Not at the next presence refresh (20 s): the customer's next words and details must not
    reach the agent who gave the conversation away."""
    assert presence.REFRESH_SECONDS >= 20  # the refresh cannot be what detaches it here
    ana = await sign_in(client, "ana")
    await sign_in(client, "flo")
    cid, auth = await claimed(client, ana)
    async with desk_ws(client, ana) as ws:
        await ws.send_json({"watch": cid})
        await next_frame(ws, type="watching")
        await ana.json("POST", f"/desk/api/conversations/{cid}/transfer", transfer)
        assert (await next_frame(ws, type="unwatched"))["conversation_id"] == cid
        await send(client, cid, auth, "my phone is 555 0199", "m7")
        with pytest.raises(TimeoutError):
            await next_frame(ws, type="message", role="customer")


async def test_a_transfer_on_one_replica_detaches_the_agents_socket_on_another() -> None:
    """The detach goes through Redis like every publish, and ahead of what follows it."""
    first, second = Hub(redis_url()), Hub(redis_url())
    await first.start()
    await second.start()
    try:
        sockets, socket = DeskSockets(second), Socket()
        second.listen(DESK_DETACH, sockets.on_detach)
        watching = {"c1", "notes:c1"}
        sockets.add("s1", socket, User(id=7, role="agent"), watching)  # type: ignore[arg-type]
        for key in watching:
            second.join(key, socket)  # type: ignore[arg-type]
        await first.publish(DESK_DETACH, {"conversation_id": "c1", "agent_id": 7})
        await first.publish("c1", {"type": "message", "text": "my phone is 555 0199"})
        await first.publish("c1", {"type": "sentinel"})
        for _ in range(100):
            if socket.sent or not watching:
                await asyncio.sleep(0.2)  # time for the message, had it been delivered
                break
            await asyncio.sleep(0.02)
        assert watching == set()
        assert socket.sent == [{"type": "unwatched", "conversation_id": "c1"}]
    finally:
        await first.close()
        await second.close()
