"""Units of work for the customer channel: receive a message, let the bot respond, hand over.

Each function begins and commits its own transaction, then publishes what was committed, so a
client never sees anything the database does not have (N1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import rasa_client, tokens
from bot.conversations import (
    Closed,
    StoredMessage,
    add_message,
    find_by_client_id,
    get_conversation,
    open_handoff,
    start_conversation,
)
from bot.db.models import Mode, Role
from bot.hub import Hub
from bot.policy import ServicePolicy
from bot.settings import Settings

log = logging.getLogger(__name__)
DESK_FEED = "desk"  # hub key every desk socket listens on for queue changes
# What a Rasa answer may carry besides text, relayed to the customer as sent.
RELAYED = ("buttons", "image", "attachment", "custom")


@dataclass(frozen=True)
class Started:
    conversation_id: str
    token: str
    expires: int


@dataclass
class Chat:
    settings: Settings
    policy: ServicePolicy
    sessions: async_sessionmaker[AsyncSession]
    hub: Hub
    rasa: aiohttp.ClientSession
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _users: dict[str, int] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, language: str, customer_id: str | None) -> Started:
        async with self.sessions.begin() as session:
            conversation = await start_conversation(
                session, language=language, customer_id=customer_id
            )
        token, expires = tokens.issue(self.settings.secret, conversation.id)
        return Started(conversation.id, token, expires)

    async def receive(
        self, conversation_id: str, client_msg_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store a customer message once; returns it and whether it is new (N1, N2)."""
        try:
            async with self.sessions.begin() as session:
                existing = await find_by_client_id(session, conversation_id, client_msg_id)
                if existing is not None:
                    return existing, False
                stored = await add_message(
                    session, conversation_id, Role.CUSTOMER, text, client_msg_id=client_msg_id
                )
        except IntegrityError:
            # the same client_msg_id committed concurrently: that first one is the answer
            async with self.sessions() as session:
                first = await find_by_client_id(session, conversation_id, client_msg_id)
            if first is None:
                raise
            return first, False
        await self.hub.publish(conversation_id, stored.as_dict())
        task = asyncio.create_task(self._respond(conversation_id, stored))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return stored, True

    @contextlib.asynccontextmanager
    async def _turn(self, conversation_id: str) -> AsyncIterator[None]:
        """One bot turn at a time per conversation, in the order the messages were stored."""
        lock = self._locks.setdefault(conversation_id, asyncio.Lock())
        self._users[conversation_id] = self._users.get(conversation_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[conversation_id] -= 1
            if not self._users[conversation_id]:
                del self._users[conversation_id], self._locks[conversation_id]

    async def _respond(self, conversation_id: str, message: StoredMessage) -> None:
        try:
            async with self._turn(conversation_id):
                await self._bot_turn(conversation_id, message)
        except Exception:
            log.exception("bot turn failed for conversation %s", conversation_id)

    async def _bot_turn(self, conversation_id: str, message: StoredMessage) -> None:
        async with self.sessions() as session:
            conversation = await get_conversation(session, conversation_id)
            mode, language = conversation.mode, conversation.language
            customer_id = conversation.customer_id
        if mode != Mode.BOT:
            return  # a person owns the conversation: nothing goes to the bot (N6)
        metadata = {"language": language, "customer_id": customer_id}
        try:
            answers = await rasa_client.send(
                self.rasa,
                conversation_id,
                message.text,
                metadata,
                self.settings.rasa_timeout_seconds,
            )
        except rasa_client.RasaUnavailable as error:
            log.warning("bot unavailable for %s: %s", conversation_id, error)
            await self._hand_over_unavailable(conversation_id, message, str(error), language)
            return
        published: list[dict[str, Any]] = []
        queue_changed = False
        async with self.sessions.begin() as session:
            for answer in answers:
                brief = (answer.get("custom") or {}).get("handoff")
                if isinstance(brief, dict):
                    ticket = await open_handoff(
                        session,
                        conversation_id,
                        brief,
                        actor="bot",
                        policy_version=_int_or_none(brief.get("policy_version")),
                    )
                    if ticket is not None:
                        published.append(_mode(Mode.QUEUED, ticket.reason, ticket.priority))
                        queue_changed = True
                    continue
                payload = {key: answer[key] for key in RELAYED if key in answer} or None
                try:
                    stored = await add_message(
                        session,
                        conversation_id,
                        Role.BOT,
                        str(answer.get("text") or ""),
                        payload=payload,
                    )
                except Closed:
                    break  # a person took over meanwhile: the bot stays silent (N6)
                published.append(stored.as_dict())
        for body in published:
            await self.hub.publish(conversation_id, body)
        if queue_changed:
            await self.hub.publish(DESK_FEED, {"type": "queue"})

    async def _hand_over_unavailable(
        self, conversation_id: str, message: StoredMessage, error: str, language: str
    ) -> None:
        brief = {
            "version": 1,
            "reason": "bot_unavailable",
            "rule": None,
            "priority": "normal",
            "language": language,
            "summary": (
                f"The bot did not answer ({error[:200]}). "
                f'Customer\'s last message: "{message.text[:300]}"'
            ),
            "signals": [],
            "suggested_next_steps": ["Read the transcript; the bot could not answer it."],
        }
        published: list[dict[str, Any]] = []
        async with self.sessions.begin() as session:
            try:
                notice = await add_message(
                    session, conversation_id, Role.SYSTEM, self.policy.messages["bot_unavailable"]
                )
            except Closed:
                return
            ticket = await open_handoff(
                session, conversation_id, brief, actor="service", policy_version=self.policy.version
            )
            published.append(notice.as_dict())
            if ticket is not None:
                published.append(_mode(Mode.QUEUED, ticket.reason, ticket.priority))
        for body in published:
            await self.hub.publish(conversation_id, body)
        await self.hub.publish(DESK_FEED, {"type": "queue"})

    async def drain(self) -> None:
        """Let bot turns in flight finish (on shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.settings.rasa_timeout_seconds + 5)


def _mode(mode: str, reason: str, priority: str) -> dict[str, Any]:
    return {"type": "mode", "mode": mode, "reason": reason, "priority": priority}


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
