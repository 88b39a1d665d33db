"""Live fan-out in one process, and between replicas through Redis pub/sub."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from bot.conversations.hub import Hub


class Socket:
    """Stands in for a websocket: records what it is sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, body: dict[str, Any]) -> None:
        self.sent.append(body)

    async def close(self, **_: Any) -> None:
        pass


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set: Redis tests skipped")
    return url


async def test_publish_reaches_the_sockets_and_listeners_of_its_key_only() -> None:
    hub, mine, other, heard = Hub(), Socket(), Socket(), []
    hub.join("c1", mine)  # type: ignore[arg-type]
    hub.join("c2", other)  # type: ignore[arg-type]
    hub.listen("c1", heard.append)
    await hub.publish("c1", {"type": "message", "text": "hi"})
    assert mine.sent == [{"type": "message", "text": "hi"}] == heard and other.sent == []
    hub.leave("c1", mine)  # type: ignore[arg-type]
    assert hub.watched() == {"c2"}


async def test_replicas_see_each_others_publishes_through_redis_once() -> None:
    first, second = Hub(redis_url()), Hub(redis_url())
    await first.start()
    await second.start()
    try:
        here, there = Socket(), Socket()
        first.join("c1", here)  # type: ignore[arg-type]
        second.join("c1", there)  # type: ignore[arg-type]
        await first.publish("c1", {"n": 1})
        for _ in range(100):
            if there.sent:
                break
            await asyncio.sleep(0.02)
        # a (wrong) echo of n=1 back to its publisher would come through Redis before this
        # marker, which the other replica publishes after it has received n=1
        await second.publish("c1", {"n": 2})
        for _ in range(100):
            if len(here.sent) >= 2:
                break
            await asyncio.sleep(0.02)
        assert here.sent == [{"n": 1}, {"n": 2}] and there.sent == [{"n": 1}, {"n": 2}]
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_redis_stops_the_service_at_start() -> None:
    hub = Hub("redis://127.0.0.1:1/0")
    with pytest.raises(Exception, match=r"(?i)connect"):
        await hub.start()
