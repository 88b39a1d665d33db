"""Where each waiting customer stands: place in the queue, agents online, and a rough wait.

Every replica recomputes the places of the customers whose sockets it holds whenever the queue
changes anywhere (the desk feed of the hub), a burst of changes making one update.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.presence import Availability, availability, free_seats
from bot.desk.queue import average_handle_seconds, positions
from bot.services import DESK_FEED, Services

log = logging.getLogger(__name__)


@dataclass
class QueuePositions:
    services: Services
    _due: bool = False
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.services.hub.listen(DESK_FEED, self._on_desk_feed)

    def _on_desk_feed(self, body: dict[str, Any]) -> None:
        if body.get("type") == "queue" and not self._due:
            self._due = True  # a burst of changes makes one update
            task = asyncio.create_task(self._send())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self) -> None:
        await asyncio.sleep(0.05)
        self._due = False
        hub = self.services.hub
        watched = hub.watched() - {DESK_FEED}
        if not watched:
            return
        try:
            async with self.services.sessions() as session:
                statuses = await self._statuses(session)
        except Exception:
            log.exception("computing queue positions failed")
            return
        for conversation_id in watched & statuses.keys():
            status = statuses[conversation_id] | {"conversation_id": conversation_id}
            await hub.deliver(conversation_id, status)

    async def status(self, conversation_id: str) -> dict[str, Any] | None:
        async with self.services.sessions() as session:
            return (await self._statuses(session)).get(conversation_id)

    async def _statuses(self, session: AsyncSession) -> dict[str, dict[str, Any]]:
        places = await positions(session)
        if not places:
            return {}
        policy = self.services.policy
        status, online = await availability(session, policy.desk.hours, self.services.now())
        handle = await average_handle_seconds(session, policy.desk.default_handle_seconds)
        seats, free = await free_seats(session)
        is_open = status == Availability.OPEN
        statuses = {}
        for conversation_id, place in places.items():
            wait = estimated_wait(place, seats, free, handle) if is_open else None
            statuses[conversation_id] = {
                "type": "queue",
                "position": place,
                "waiting": len(places),
                "agents_online": online,
                "availability": str(status),
                "estimated_wait_seconds": wait[1] if wait else None,
                "estimated_wait_range": list(wait) if wait else None,
            }
        return statuses

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)


def estimated_wait(place: int, seats: int, free: int, handle: int) -> tuple[int, int, int] | None:
    """(shortest, likely, longest) seconds until a person takes the conversation at `place`
    (1 = next), from the seats of the agents online, how many are free, and how long a
    conversation with a person takes lately; None with nobody online.

    A free seat for everyone up to `place` means an agent can take it now: a minute or two. Else
    the customer waits for `place - free` seats to come free, at `seats / handle` a second.
    The range is half to one and a half times that: handling times vary that much.
    """
    if seats <= 0:
        return None
    if place <= free:
        return 0, 60, 180
    likely = math.ceil((place - free) * handle / seats)
    return max(60, likely // 2), max(60, likely), max(120, likely * 3 // 2)


POSITIONS = web.AppKey("positions", QueuePositions)
