"""What views and background work need, in one place: configuration, policy, storage, live
fan-out and the clock, and the unit of work (`work()`) that publishes only after it commits (N1).

Views read it as `request.app[SERVICES]`; what each room adds (the bot's turns, the customer's
intake, queue positions, the designer's loop) has its own key next to its code.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from actions.handoff.policy import Policy
from bot.conversations.hub import Hub
from bot.conversations.lifecycle import Work
from bot.conversations.messages import get_conversation
from bot.db.models import utcnow
from bot.ops.metrics import Metrics
from bot.settings import Settings

DESK_FEED = "desk"  # hub key every desk socket listens on for queue changes
DESK_DETACH = "desk:detach"  # hub key, listeners only: an agent lost a conversation


@dataclass
class Services:
    settings: Settings
    policy: Policy
    sessions: async_sessionmaker[AsyncSession]
    hub: Hub
    # The app's clock (opening hours, and the time of every unit of work); tests move it.
    now: Callable[[], datetime] = utcnow
    metrics: Metrics = field(default_factory=Metrics)

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[Work]:
        """One transaction; its frames are published once it has committed (none if it fails)."""
        async with self.sessions.begin() as session:
            work = Work(session, self.now())
            yield work
        self.metrics.committed(work.frames)
        for conversation_id, agent_id in work.detached:  # before its frames: none reach them
            await self.hub.publish(
                DESK_DETACH, {"conversation_id": conversation_id, "agent_id": agent_id}
            )
        for conversation_id, body in work.frames:
            await self.publish(conversation_id, body)
        for body in work.desk:
            await self.publish_desk(body)
        if work.queue_changed:
            await self.queue_changed()

    async def say(self, session: AsyncSession, conversation_id: str, name: str) -> str:
        """policy.yml's service_messages[name] in the conversation's language (English when it
        has no text in that language), with {hours} filled in the same language."""
        language = (await get_conversation(session, conversation_id)).language
        text = self.policy.message(name, language)
        return text.replace("{hours}", self.policy.desk.hours.describe.text(language))

    async def publish(self, conversation_id: str, body: dict[str, Any]) -> None:
        """To everyone watching the conversation: its customer, its agent, a supervisor."""
        await self.hub.publish(conversation_id, body | {"conversation_id": conversation_id})

    async def publish_desk(self, body: dict[str, Any]) -> None:
        """To every desk socket on every replica."""
        await self.hub.publish(DESK_FEED, body)

    async def queue_changed(self) -> None:
        """Desks reload the queue; every replica updates its waiting customers' positions."""
        await self.publish_desk({"type": "queue"})

    async def typing(self, conversation_id: str, role: str, name: str | None = None) -> None:
        """Not stored: a hint that lives only while both sides are connected."""
        body: dict[str, Any] = {"type": "typing", "role": role}
        if name:
            body["name"] = name
        await self.publish(conversation_id, body)


SERVICES = web.AppKey("services", Services)
