"""The bot's turn: each customer message to Rasa and Rasa's answers back to the conversation.

One turn at a time per conversation, in the order messages were stored; at most
RASA_MAX_IN_FLIGHT messages at Rasa at once (back-pressure, `_ask_rasa`); and when the bot fails,
the customer goes to a person with a brief from the transcript. A handoff payload in Rasa's
answer queues the conversation (`relay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.lifecycle import Work
from bot.conversations.messages import (
    Closed,
    StoredMessage,
    add_message,
    get_conversation,
    unanswered,
)
from bot.db.models import Message, Mode, Role, utcnow
from bot.desk.presence import Availability, availability, speakers_online
from bot.desk.queue import open_handoff
from bot.rasa import client as rasa_client
from bot.rasa.health import ActionServerWatch
from bot.services import Services

log = logging.getLogger(__name__)
# What a Rasa answer may carry besides text, relayed to the customer as sent.
RELAYED = ("buttons", "image", "attachment", "custom")
# Slots the handoff set that must not outlive it when the bot takes the conversation back.
CLEARED_SLOTS = {"handoff_reason": None, "gate": None}
# The bot's action that welcomes the customer back from a person (actions/handback.py).
HANDED_BACK_ACTION = "action_handed_back"
# The bot's action that opens a new session, carrying over what it should (actions/session.py).
SESSION_START_ACTION = "action_session_start"
# The same text this many times in one answer is Rasa predicting in circles (its circuit breaker
# stops it at ten actions), not an answer.
LOOPING_REPEATS = 3
# A message whose turn at Rasa comes with less time left than this, or than twice what answers
# take lately, is not worth Rasa's work.
MIN_RASA_SECONDS = 0.5
# A customer message left unanswered (its turn lost with the process) is answered late up to this
# old; an older one is left alone.
LEFT_OVER_WINDOW = timedelta(hours=1)


@dataclass
class BotTurns:
    services: Services
    rasa: aiohttp.ClientSession
    actions: ActionServerWatch
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _users: dict[str, int] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _rasa_slots: asyncio.Semaphore = field(init=False)
    _rasa_seconds: float = 0.0  # how long Rasa's answers take lately (moving average)

    def __post_init__(self) -> None:
        self._rasa_slots = asyncio.Semaphore(self.services.settings.rasa_max_in_flight)

    def respond(
        self, conversation_id: str, message: StoredMessage, reopened: bool, *, retry: bool = False
    ) -> None:
        """Let the bot answer a stored customer message, in the background (a `retry` only if
        it is still unanswered when its turn comes)."""
        received = asyncio.get_running_loop().time()
        task = asyncio.create_task(
            self._respond(conversation_id, message, reopened, retry, received)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def turn_deadline(self) -> timedelta:
        """The longest a bot turn takes, answered or handed over: a possible resume, then the
        wait and the answer (RASA_TIMEOUT_SECONDS each), and a margin."""
        return timedelta(seconds=2 * self.services.settings.rasa_timeout_seconds + 1)

    async def answer_left_over(
        self, before: datetime | None = None, conversation_id: str | None = None
    ) -> int:
        """Give a turn to each customer message stored before `before` (by default one turn
        deadline ago, so no replica can still be working on it) that nothing answered: its turn
        was lost with the process that had it. It is answered, or handed over. Messages older
        than LEFT_OVER_WINDOW are left: their customer is long gone. How many."""
        before = before or utcnow() - self.turn_deadline
        async with self.services.sessions() as session:
            left_over = await unanswered(
                session, conversation_id, after=before - LEFT_OVER_WINDOW, before=before
            )
        for cid, message in left_over:
            log.warning(
                "answering message %s of %s, left unanswered",
                message.seq,
                cid,
                extra=_fields(cid, seq=message.seq),
            )
            self.respond(cid, message, reopened=False, retry=True)
        return len(left_over)

    async def answer_left_over_at_start(self) -> None:
        """On start-up: once every turn another process had in flight has had its time, answer
        what was stored before this process started and is still unanswered."""
        started = utcnow()
        await asyncio.sleep(self.turn_deadline.total_seconds())
        try:
            await self.answer_left_over(started)
        except Exception:
            log.exception("answering messages left unanswered failed")

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

    async def _respond(
        self,
        conversation_id: str,
        message: StoredMessage,
        reopened: bool,
        retry: bool,
        received: float,
    ) -> None:
        try:
            async with self._turn(conversation_id):
                if retry and not await self._still_unanswered(conversation_id, message):
                    return  # a turn before this one answered it, or a person has it
                outcome = await self._bot_turn(conversation_id, message, reopened)
            if outcome is not None:
                seconds = asyncio.get_running_loop().time() - received
                self.services.metrics.answer_seconds.labels(outcome).observe(seconds)
                log.info(
                    "bot turn %s in %.3f s",
                    outcome,
                    seconds,
                    extra=_fields(conversation_id, outcome=outcome, seconds=round(seconds, 3))
                    | {"seq": message.seq, "text": message.text},
                )
        except Exception:
            log.exception(
                "bot turn failed for conversation %s",
                conversation_id,
                extra=_fields(conversation_id),
            )

    async def _still_unanswered(self, conversation_id: str, message: StoredMessage) -> bool:
        async with self.services.sessions() as session:
            left = await unanswered(session, conversation_id)
        return any(waiting.id == message.id for _, waiting in left)

    async def resume_bot(
        self, conversation_id: str, slots: dict[str, Any], *, new_session: bool = False
    ) -> None:
        """Give Rasa's side of the conversation back to the bot (raises RasaUnavailable).

        What the tracker receives on each way back:
        - returned by a person, or the customer leaving the queue: `resume`, the outcome slots
          and `action_listen` (rasa_client.resume), in the same session: the bot carries on with
          the matter the person handled (and confirms it: confirm_outcome);
        - a closed conversation the customer writes to again: the same, then a new session
          (`new_session`), so the bot meets the next message as in a fresh conversation. The
          resolved matter's handoff slots go and its turns no longer count towards a handoff;
          what action_session_start carries over (language, order number) stays.
        Every other path (a lapsed lease, a sign-out, a transfer, a supervisor's join, a
        call-back) keeps the conversation with people and reaches the bot through one of these.
        """
        settings = self.services.settings
        secret, timeout = settings.rasa_jwt_secret, settings.rasa_timeout_seconds
        await rasa_client.resume(self.rasa, secret, conversation_id, CLEARED_SLOTS | slots, timeout)
        if new_session:
            await rasa_client.execute(
                self.rasa, secret, conversation_id, SESSION_START_ACTION, timeout
            )

    async def _bot_turn(
        self, conversation_id: str, message: StoredMessage, reopened: bool
    ) -> str | None:
        """Answer the message, or hand the customer over: which it was ("answered",
        "handed_over"), None when the bot had no turn (a person has the conversation)."""
        async with self.services.sessions() as session:
            conversation = await get_conversation(session, conversation_id)
            mode, language = conversation.mode, conversation.language
            customer_id = conversation.customer_id
        if mode != Mode.BOT:
            return None  # a person owns the conversation: nothing goes to the bot (N6)
        metadata: dict[str, Any] = {"language": language, "customer_id": customer_id}
        # a tapped button: Rasa gets its payload, and knows it is not the customer's own writing
        # (its language detection leaves the conversation's language alone)
        button = (message.payload or {}).get("button")
        if isinstance(button, str):
            metadata["button"] = True
        try:
            if not self.actions.healthy and not await self.actions.check(self.rasa):
                raise rasa_client.RasaUnavailable(
                    "the action server is not answering", kind="actions_down"
                )
            if reopened:
                await self.resume_bot(conversation_id, {}, new_session=True)
            text = button if isinstance(button, str) else message.text
            answers = await self._ask_rasa(conversation_id, text, metadata)
            if not answers:
                # Rasa answers 200 with nothing when a custom action fails (the action server
                # is down, say): in bot mode every message gets an answer, so this is a failure
                raise rasa_client.RasaUnavailable(
                    "the bot gave no answer to this message", kind="no_answer"
                )
            _check_not_looping(answers)
        except rasa_client.RasaUnavailable as error:
            log.warning(
                "bot unavailable for %s: %s",
                conversation_id,
                error,
                extra=_fields(conversation_id, kind=error.kind),
            )
            self.services.metrics.bot_failures.labels(error.kind).inc()
            await self._hand_over_unavailable(conversation_id, message, str(error), language)
            return "handed_over"
        await self.relay(conversation_id, answers)
        return "answered"

    async def _ask_rasa(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send a customer message to Rasa, at most RASA_MAX_IN_FLIGHT at once, first come first
        served, the wait for a turn counted in RASA_TIMEOUT_SECONDS.

        Rasa works through concurrent messages all at once on one CPU-bound event loop: past its
        capacity every answer gets slower, until all of them time out together, and it goes on
        working on what the service gave up on. Queued here instead, answers come at Rasa's full
        rate and a message that waited too long never reaches it. (Only a bot turn, serialised
        per conversation, takes a conversation out of bot mode, so the mode read before the wait
        still holds after it.)
        """
        loop = asyncio.get_running_loop()
        budget = self.services.settings.rasa_timeout_seconds
        started = loop.time()
        try:
            async with asyncio.timeout(budget):
                await self._rasa_slots.acquire()
        except TimeoutError:
            raise rasa_client.RasaUnavailable(
                f"the bot is busy: no turn within {budget:.0f} s", kind="busy"
            ) from None
        try:
            left = budget - (loop.time() - started)
            # it would time out at Rasa, which would still do the work for nobody (at most half
            # the budget: a message that did not wait always goes, so the average stays current)
            if left < max(MIN_RASA_SECONDS, min(2 * self._rasa_seconds, budget / 2)):
                raise rasa_client.RasaUnavailable(
                    f"the bot is busy: waited {budget - left:.1f} s for a turn", kind="busy"
                )
            sent = loop.time()
            answers = await rasa_client.send(self.rasa, conversation_id, text, metadata, left)
            self._rasa_seconds += 0.2 * (loop.time() - sent - self._rasa_seconds)
            return answers
        finally:
            self._rasa_slots.release()

    async def relay(self, conversation_id: str, answers: list[dict[str, Any]]) -> None:
        """Store and push what the bot said; a handoff payload queues the conversation."""
        async with self.services.work() as work:
            for answer in answers:
                brief = (answer.get("custom") or {}).get("handoff")
                if isinstance(brief, dict):
                    ticket = await open_handoff(
                        work,
                        conversation_id,
                        brief,
                        actor="bot",
                        policy_version=_int_or_none(brief.get("policy_version")),
                    )
                    if ticket is not None:
                        await self._availability_notice(work, conversation_id)
                    continue
                payload = {key: answer[key] for key in RELAYED if key in answer} or None
                try:
                    stored = await add_message(
                        work.session,
                        conversation_id,
                        Role.BOT,
                        str(answer.get("text") or ""),
                        payload=payload,
                    )
                except Closed:
                    break  # a person took over meanwhile: the bot stays silent (N6)
                work.said(conversation_id, stored)

    async def _availability_notice(self, work: Work, conversation_id: str) -> None:
        """Tell a newly queued customer plainly when nobody can answer now; offer a call back."""
        policy = self.services.policy
        status, _ = await availability(work.session, policy.desk.hours, self.services.now())
        notice_name = str(status)
        if status == Availability.OPEN:
            # someone can answer, but perhaps nobody in the customer's language
            language = (await get_conversation(work.session, conversation_id)).language
            if (await speakers_online(work.session))[language]:
                return
            notice_name = "no_speaker_online"
        text = await self.services.say(work.session, conversation_id, notice_name)
        notice = await add_message(
            work.session,
            conversation_id,
            Role.SYSTEM,
            text,
            payload={"callback": True, "availability": notice_name},
        )
        work.said(conversation_id, notice)

    async def _hand_over_unavailable(
        self, conversation_id: str, message: StoredMessage, error: str, language: str
    ) -> None:
        async with self.services.work() as work:
            try:
                notice = await add_message(
                    work.session,
                    conversation_id,
                    Role.SYSTEM,
                    self.services.policy.message("bot_unavailable", language),
                )
            except Closed:
                return
            work.said(conversation_id, notice)
            brief = await _unavailable_brief(
                work.session, conversation_id, message, error, language
            )
            ticket = await open_handoff(
                work,
                conversation_id,
                brief,
                actor="service",
                policy_version=self.services.policy.version,
            )
            if ticket is not None:
                await self._availability_notice(work, conversation_id)

    async def confirm_outcome(self, conversation_id: str) -> None:
        """After a person hands back, the bot welcomes the customer and confirms what was done
        (from the outcome slots); if it can't, the service says the customer is back with it."""
        settings = self.services.settings
        try:
            answers = await rasa_client.execute(
                self.rasa,
                settings.rasa_jwt_secret,
                conversation_id,
                HANDED_BACK_ACTION,
                settings.rasa_timeout_seconds,
            )
        except rasa_client.RasaUnavailable as error:
            log.warning(
                "bot could not confirm the outcome for %s: %s",
                conversation_id,
                error,
                extra=_fields(conversation_id),
            )
            answers = []
        if not any(answer.get("text") for answer in answers):
            async with self.services.sessions() as session:
                back = await self.services.say(session, conversation_id, "back_to_bot")
            answers = [{"text": back}]
        async with self._turn(conversation_id):
            await self.relay(conversation_id, answers)

    async def drain(self) -> None:
        """Let bot turns in flight finish (on shutdown, and in tests before they look)."""
        if self._tasks:
            timeout = self.services.settings.rasa_timeout_seconds + 5
            await asyncio.wait(list(self._tasks), timeout=timeout)


TURNS = web.AppKey("turns", BotTurns)


async def _unavailable_brief(
    session: AsyncSession, conversation_id: str, message: StoredMessage, error: str, language: str
) -> dict[str, Any]:
    """The brief the service writes when the bot fails, built from the stored transcript (the
    bot can't say): each earlier question and the bot's answer to it, so the agent knows how far
    the customer got (issue 12, item 6)."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.role.in_((Role.CUSTOMER, Role.BOT)),
            Message.seq < message.seq,
        )
        .order_by(Message.seq)
    )
    answered: list[dict[str, Any]] = []
    turn, asked = 0, ""
    for row in rows:
        if row.role == Role.CUSTOMER:
            turn, asked = turn + 1, row.text
        elif answered and answered[-1]["turn"] == turn:
            answered[-1]["answer"] += f" {row.text}"  # one answer in several bubbles
        elif turn:
            answered.append({"turn": turn, "asked": asked, "answer": row.text, "response": None})
    for entry in answered:
        entry["asked"], entry["answer"] = entry["asked"][:200], entry["answer"][:300]
    if answered:
        questions = ", ".join(f'"{a["asked"][:80]}"' for a in answered)
        before = (
            f"The customer asked {len(answered)} question{'s' if len(answered) != 1 else ''} "
            f"before: {questions}; the bot answered each (see the transcript)."
        )
    else:
        before = "This was the customer's first question to the bot."
    return {
        "version": 1,
        "reason": "bot_unavailable",
        "rule": None,
        "priority": "normal",
        "language": language,
        "summary": (
            f"The bot stopped answering ({error[:200]}). {before} "
            f'Customer\'s last message: "{message.text[:300]}"'
        ),
        "bot_answers": len(answered),
        "answered": answered,
        "signals": [],
        "suggested_next_steps": ["Read the transcript; the bot could not answer the last message."],
    }


def _check_not_looping(answers: list[dict[str, Any]]) -> None:
    """An answer that repeats one text is Rasa predicting in circles (a tracker left in a state
    no rule covers, or a failing action): the customer goes to a person, not through a wall of
    identical bubbles."""
    texts = [str(answer["text"]) for answer in answers if answer.get("text")]
    repeats = max((texts.count(text) for text in texts), default=0)
    if repeats >= LOOPING_REPEATS:
        raise rasa_client.RasaUnavailable(
            f"the bot gave the same answer {repeats} times at once", kind="looping"
        )


def _fields(conversation_id: str, **more: Any) -> dict[str, Any]:
    """A log event's own fields (bot/ops/logs.py): always the conversation it is about."""
    return {"conversation_id": conversation_id} | more


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
