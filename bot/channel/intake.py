"""The customer's side of a conversation: start it, send a message, score it, stop waiting for a
person, leave a call-back.

Each runs one unit of work (`Services.work`): it begins and commits a transaction, and what it
collected to publish goes out only after the commit, so a client never sees anything the
database does not have (N1). A stored message goes to the bot in the background (bot/rasa/turn.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channel import callbacks, tokens
from bot.conversations import lifecycle, survey
from bot.conversations.controls import first_control
from bot.conversations.lifecycle import move
from bot.conversations.messages import (
    StoredMessage,
    add_message,
    find_by_client_id,
    get_conversation,
)
from bot.db.models import Customer, Message, Mode, Role
from bot.desk.queue import customer_back_to_bot
from bot.errors import BadRequest, Conflict
from bot.rasa.turn import BotTurns
from bot.services import Services
from bot.web.http import whole_number

CLIENT_MSG_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class Incoming:
    client_msg_id: str
    text: str
    # a button's payload when the customer tapped one: `text` is its title, what they saw
    button: str | None = None


def parse_message(data: Any, max_chars: int) -> Incoming:
    """A customer message, or BadRequest saying exactly what is wrong (nothing is stored)."""
    if not isinstance(data, dict):
        raise BadRequest("invalid_message", "expected a JSON object")
    client_msg_id, text = data.get("client_msg_id"), data.get("text")
    if not isinstance(client_msg_id, str) or not CLIENT_MSG_ID.fullmatch(client_msg_id):
        raise BadRequest(
            "invalid_client_msg_id", "client_msg_id must be 1-64 letters, digits or ._:-"
        )
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("invalid_text", "text must be a non-empty string")
    if control := first_control(text):
        raise BadRequest(
            "invalid_text", f"text must not contain control characters (found {control})"
        )
    if len(text) > max_chars:
        raise BadRequest(
            "message_too_long",
            f"messages are limited to {max_chars} characters",
            max_chars=max_chars,
        )
    button = data.get("button")
    if button is not None and (
        not isinstance(button, str)
        or not button.strip()
        or len(button) > max_chars
        or first_control(button)
    ):
        raise BadRequest(
            "invalid_button", f"button must be a button's payload, up to {max_chars} characters"
        )
    return Incoming(client_msg_id, text, button)


@dataclass(frozen=True)
class Started:
    conversation_id: str
    token: str
    expires: int
    # a signed-in customer's e-mail address, so the call-back form need not ask for it
    contact: dict[str, str] | None = None


@dataclass
class Intake:
    services: Services
    turns: BotTurns

    async def start(self, language: str, customer_id: str | None) -> Started:
        async with self.services.sessions.begin() as session:
            conversation = await lifecycle.start(
                session, language=language, customer_id=customer_id
            )
            known = await session.get(Customer, customer_id) if customer_id else None
        token, expires = tokens.issue(self.services.settings.secret, conversation.id)
        contact = {"email": known.email} if known is not None and known.email else None
        return Started(conversation.id, token, expires, contact)

    async def receive(
        self, conversation_id: str, client_msg_id: str, text: str, button: str | None = None
    ) -> tuple[StoredMessage, bool]:
        """Store a customer message once; returns it and whether it is new (N1, N2).

        A message to a closed conversation is never refused: a score answers the satisfaction
        question, anything else reopens the conversation with the bot.
        """
        rated = reopened = False
        resent: StoredMessage | None = None
        try:
            async with self.services.work() as work:
                session = work.session
                existing = await find_by_client_id(session, conversation_id, client_msg_id)
                if existing is not None:
                    resent = existing
                conversation = await get_conversation(session, conversation_id, for_update=True)
                if conversation.mode == Mode.CLOSED:
                    rated = await self._answer_to_survey(session, conversation_id, text)
                    reopened = not rated and await move(
                        work, conversation_id, Mode.CLOSED, Mode.BOT, "reopened", "customer"
                    )
                stored = await add_message(
                    session,
                    conversation_id,
                    Role.CUSTOMER,
                    text,
                    client_msg_id=client_msg_id,
                    payload={"button": button} if button else None,
                )
                work.said(conversation_id, stored)
        except IntegrityError:
            # the same client_msg_id committed concurrently: that first one is the answer
            async with self.services.sessions() as session:
                first = await find_by_client_id(session, conversation_id, client_msg_id)
            if first is None:
                raise
            return first, False
        if resent is not None:
            # if the first one's turn was lost (its process died), it gets one now
            await self.turns.answer_left_over(conversation_id=conversation_id)
            return resent, False
        if not rated:
            self.turns.respond(conversation_id, stored, reopened=reopened)
        return stored, True

    async def _answer_to_survey(
        self, session: AsyncSession, conversation_id: str, text: str
    ) -> bool:
        """A bare 1-5 right after the satisfaction question is the answer to it."""
        score = whole_number(text.strip())
        if score is None or score not in survey.SCALE:
            return False
        last = await session.scalar(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq.desc())
            .limit(1)
        )
        if last is None or not (last.payload or {}).get("survey"):
            return False
        # an answer to the question even when an earlier score stands (a second resolve):
        # it must not reopen the chat and reach the bot as a message
        await survey.record(session, conversation_id, score)
        return True

    async def rate(self, conversation_id: str, score: int) -> bool:
        async with self.services.sessions.begin() as session:
            return await survey.record(session, conversation_id, score)

    async def back_to_bot(self, conversation_id: str) -> None:
        """The customer stops waiting for a person. Rasa first: if the bot can't take the
        conversation back, the customer stays in the queue."""
        async with self.services.sessions() as session:
            if (await get_conversation(session, conversation_id)).mode != Mode.QUEUED:
                raise Conflict("only a conversation waiting in the queue can go back to the bot")
        await self.turns.resume_bot(conversation_id, {})
        async with self.services.work() as work:
            notice = await self.services.say(work.session, conversation_id, "back_to_bot")
            await customer_back_to_bot(work, conversation_id, notice)

    async def leave_callback(self, conversation_id: str, contact: callbacks.Contact) -> None:
        async with self.services.work() as work:
            await callbacks.request_callback(work.session, conversation_id, contact)
            thanks = await add_message(
                work.session,
                conversation_id,
                Role.SYSTEM,
                await self.services.say(work.session, conversation_id, "callback_saved"),
            )
            work.said(conversation_id, thanks)
            work.queue_changed = True  # desks show the call-back on the queue card


INTAKE = web.AppKey("intake", Intake)
