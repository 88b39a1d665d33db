"""Live fan-out of stored messages to the websockets watching a conversation, in this process.

The database is the source of truth; a socket that misses something catches up with `since_seq`.
(Several replicas will publish through Redis pub/sub; that is the next step of issue 4.)
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from aiohttp import web


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def join(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        self._sockets[conversation_id].add(socket)

    def leave(self, conversation_id: str, socket: web.WebSocketResponse) -> None:
        self._sockets[conversation_id].discard(socket)
        if not self._sockets[conversation_id]:
            del self._sockets[conversation_id]

    async def publish(self, conversation_id: str, body: dict[str, Any]) -> None:
        for socket in list(self._sockets.get(conversation_id, ())):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.send_json(body)

    async def close_all(self) -> None:
        for sockets in list(self._sockets.values()):
            for socket in list(sockets):
                await socket.close(code=1001, message=b"server shutting down")
