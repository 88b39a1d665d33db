"""Live fan-out of what was committed to the websockets that watch it, on every replica.

The database is the source of truth; a socket that misses something catches up with `since_seq`
(customers) or by reloading (desk). In one process the hub delivers directly. With REDIS_URL set,
every publish also goes out on one Redis pub/sub channel, and each replica delivers what other
replicas published to its own sockets, so a customer on one replica and their agent on another
still see each other live.

Listeners are callbacks for what a replica must do itself when something is published anywhere
(recompute queue positions for its customers, close the sockets of a user who signed out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
CHANNEL = "fetchandhome:hub"
Listener = Callable[[dict[str, Any]], None]


class Hub:
    def __init__(self, redis_url: str | None = None) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._origin = uuid.uuid4().hex
        self._redis_url = redis_url
        self._redis: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        if not self._redis_url:
            return
        import redis.asyncio as redis

        self._redis = redis.from_url(self._redis_url)
        await self._redis.ping()  # fail at start-up, with the cause, if Redis is unreachable
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def close_sockets(self) -> None:
        for sockets in list(self._sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server shutting down")

    async def close(self) -> None:
        await self.close_sockets()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._redis is not None:
            await self._redis.aclose()

    def join(self, key: str, socket: web.WebSocketResponse) -> None:
        self._sockets[key].add(socket)

    def leave(self, key: str, socket: web.WebSocketResponse) -> None:
        self._sockets[key].discard(socket)
        if not self._sockets[key]:
            del self._sockets[key]

    def watched(self) -> set[str]:
        """Keys with at least one socket on this replica."""
        return set(self._sockets)

    def listen(self, key: str, listener: Listener) -> None:
        self._listeners[key].append(listener)

    async def publish(self, key: str, body: dict[str, Any]) -> None:
        """Deliver here at once, and to the other replicas through Redis when configured."""
        await self.deliver(key, body)
        if self._redis is None:
            return
        frame = json.dumps({"origin": self._origin, "key": key, "body": body})
        try:
            await self._redis.publish(CHANNEL, frame)
        except Exception:
            # Live delivery elsewhere is lost, not the data: other replicas' clients catch up
            # from the database when they reconnect or poll.
            log.exception("publishing to Redis failed")

    async def deliver(self, key: str, body: dict[str, Any]) -> None:
        """Deliver to this replica's sockets and listeners only."""
        for listener in self._listeners.get(key, ()):
            try:
                listener(body)
            except Exception:
                log.exception("hub listener for %s failed", key)
        sockets = list(self._sockets.get(key, ()))
        if sockets:
            await asyncio.gather(*(self.send(s, body) for s in sockets))

    @staticmethod
    async def send(socket: web.WebSocketResponse, body: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await socket.send_json(body)

    async def _read(self) -> None:
        """Deliver what other replicas publish; resubscribe after Redis drops the connection."""
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        frame = json.loads(message["data"])
                        if frame.get("origin") != self._origin:
                            await self.deliver(str(frame["key"]), dict(frame["body"]))
            except Exception:  # not CancelledError (a BaseException): closing still stops this
                log.exception("Redis subscription lost; reconnecting")
                await asyncio.sleep(1)
