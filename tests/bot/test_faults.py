"""The service killed with SIGKILL under load, then restarted: what it acknowledged is there, in
order, once (N1, N2, N3), checked against the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.db.engine import create_engine, session_factory
from bot.db.models import Message
from tests.bot.conftest import FakeRasa
from tests.bot.processes import service_env, start_service, stop
from tests.e2e.conftest import free_port

MESSAGES = 60


async def _send(
    http: aiohttp.ClientSession, url: str, token: str, mid: str
) -> tuple[str, dict[str, Any] | None]:
    try:
        async with http.post(
            url,
            json={"client_msg_id": mid, "text": f"message {mid}"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            return mid, (await response.json()) if response.status in (200, 201) else None
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return mid, None  # no answer: the client does not know, and will retry


async def _stored(database_url: str, cid: str) -> dict[str, tuple[int, int]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(Message).where(Message.conversation_id == cid, Message.role == "customer")
            )
            return {m.client_msg_id or "": (m.id, m.seq) for m in rows}
    finally:
        await engine.dispose()


async def test_acknowledged_messages_survive_kill_9_and_retries_store_them_once(
    database_url: str, fake_rasa: tuple[FakeRasa, int]
) -> None:
    env = service_env(database_url, fake_rasa[1], RATE_MESSAGES_PER_CONVERSATION="1000",
                      RATE_MESSAGES_PER_ADDRESS="1000")  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = await start_service(env, port)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        started = await (await http.post(f"{base}/api/conversations", json={})).json()
        cid, token = started["conversation_id"], started["token"]
        url = f"{base}/api/conversations/{cid}/messages"
        sends = [asyncio.create_task(_send(http, url, token, f"k{i}")) for i in range(MESSAGES)]
        # kill it mid-load: some acknowledged, some in flight, some not yet sent
        answered = 0
        for next_done in asyncio.as_completed(sends):
            answered += (await next_done)[1] is not None
            if answered >= MESSAGES // 6:
                break
        service.send_signal(signal.SIGKILL)
        await service.wait()
        acked = {mid: body for mid, body in await asyncio.gather(*sends) if body}
        stored = await _stored(database_url, cid)
        # N1: every acknowledged message is committed, with the id and seq it was acknowledged with
        for mid, body in acked.items():
            assert stored.get(mid) == (body["id"], body["seq"]), mid
        assert 0 < len(acked) < MESSAGES or pytest.fail(f"kill came too late: {len(acked)} acked")

        service = await start_service(env, port)
        try:
            retried = dict(
                await asyncio.gather(*(_send(http, url, token, f"k{i}") for i in range(MESSAGES)))
            )
        finally:
            await stop(service)
    # N2: a retry of an acknowledged message returns the first result
    for mid, body in acked.items():
        assert retried[mid] is not None and (retried[mid]["id"], retried[mid]["seq"]) == (
            body["id"], body["seq"],
        )  # fmt: skip
    final = await _stored(database_url, cid)
    assert set(final) == {f"k{i}" for i in range(MESSAGES)}  # each stored exactly once
    # N3: seqs stay gapless for the conversation as a whole (bot answers take seqs too)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            all_seqs = list(
                await session.scalars(
                    select(Message.seq).where(Message.conversation_id == cid).order_by(Message.seq)
                )
            )
    finally:
        await engine.dispose()
    assert all_seqs == list(range(1, len(all_seqs) + 1))
