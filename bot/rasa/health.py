"""Is the bot whole? The action server can be down while Rasa still answers: then Rasa's rules
fall back to "sorry, I didn't understand" for every message, and no handoff ever fires (the gate
is one of those actions). The service watches the action server itself and hands customers to a
person (reason bot_unavailable) while it is down, instead of letting the bot go in circles."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import aiohttp

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 2.0


@dataclass
class ActionServerWatch:
    url: str  # the action server's /health
    healthy: bool = True
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def check(self, http: aiohttp.ClientSession) -> bool:
        try:
            async with http.get(self.url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                healthy = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            healthy = False
        if healthy != self.healthy:
            log.warning("action server is %s", "back" if healthy else "not answering")
        self.healthy = healthy
        return healthy

    def start(self, http: aiohttp.ClientSession) -> None:
        async def watch() -> None:
            while True:
                await self.check(http)
                await asyncio.sleep(INTERVAL_SECONDS)

        self._task = asyncio.create_task(watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
