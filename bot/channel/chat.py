"""Units of work for the customer channel: receive a message, let the bot respond, hand over,
tell waiting customers where they stand.

Each function runs one unit of work (`Chat.work`): it begins and commits a transaction, and what
it collected to publish goes out only after the commit, so a client never sees anything the
database does not have (N1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channel import callbacks, survey, tokens
from bot.conversations import lifecycle
from bot.conversations.hub import Hub
from bot.conversations.lifecycle import Work, move
from bot.conversations.messages import (
    Closed,
    StoredMessage,
    add_message,
    find_by_client_id,
    get_conversation,
)
from bot.db.models import Message, Mode, Role, utcnow
from bot.desk.presence import Availability, availability
from bot.desk.queue import (
    QueueError,
    average_handle_seconds,
    customer_back_to_bot,
    open_handoff,
    positions,
)
from bot.policy import ServicePolicy
from bot.rasa import client as rasa_client
from bot.rasa.health import ActionServerWatch
from bot.settings import Settings

log = logging.getLogger(__name__)
DESK_FEED = "desk"  # hub key every desk socket listens on for queue changes
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
    actions: ActionServerWatch
    # The app's clock (opening hours, and the time of every unit of work); tests move it.
    now: Callable[[], datetime] = utcnow
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _users: dict[str, int] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _positions_due: bool = False
    _rasa_slots: asyncio.Semaphore = field(init=False)
    _rasa_seconds: float = 0.0  # how long Rasa's answers take lately (moving average)

    def __post_init__(self) -> None:
        self.hub.listen(DESK_FEED, self._on_desk_feed)
        self._rasa_slots = asyncio.Semaphore(self.settings.rasa_max_in_flight)

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[Work]:
        """One transaction; its frames are published once it has committed (none if it fails)."""
        async with self.sessions.begin() as session:
            work = Work(session, self.now())
            yield work
        for conversation_id, body in work.frames:
            await self.publish(conversation_id, body)
        for body in work.desk:
            await self.publish_desk(body)
        if work.queue_changed:
            await self.queue_changed()

    # --- customers ------------------------------------------------------------------------

    async def start(self, language: str, customer_id: str | None) -> Started:
        async with self.sessions.begin() as session:
            conversation = await lifecycle.start(
                session, language=language, customer_id=customer_id
            )
        token, expires = tokens.issue(self.settings.secret, conversation.id)
        return Started(conversation.id, token, expires)

    async def receive(
        self, conversation_id: str, client_msg_id: str, text: str
    ) -> tuple[StoredMessage, bool]:
        """Store a customer message once; returns it and whether it is new (N1, N2).

        A message to a closed conversation is never refused: a score answers the satisfaction
        question, anything else reopens the conversation with the bot.
        """
        rated = reopened = False
        try:
            async with self.work() as work:
                session = work.session
                existing = await find_by_client_id(session, conversation_id, client_msg_id)
                if existing is not None:
                    return existing, False
                conversation = await get_conversation(session, conversation_id, for_update=True)
                if conversation.mode == Mode.CLOSED:
                    rated = await self._answer_to_survey(session, conversation_id, text)
                    reopened = not rated and await move(
                        work, conversation_id, Mode.CLOSED, Mode.BOT, "reopened", "customer"
                    )
                stored = await add_message(
                    session, conversation_id, Role.CUSTOMER, text, client_msg_id=client_msg_id
                )
                work.said(conversation_id, stored)
        except IntegrityError:
            # the same client_msg_id committed concurrently: that first one is the answer
            async with self.sessions() as session:
                first = await find_by_client_id(session, conversation_id, client_msg_id)
            if first is None:
                raise
            return first, False
        if not rated:
            self._spawn(self._respond(conversation_id, stored, reopened=reopened))
        return stored, True

    async def _answer_to_survey(
        self, session: AsyncSession, conversation_id: str, text: str
    ) -> bool:
        """A bare 1-5 right after the satisfaction question is the answer to it."""
        if not text.strip().isdigit() or int(text.strip()) not in survey.SCALE:
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
        await survey.record(session, conversation_id, int(text.strip()))
        return True

    async def rate(self, conversation_id: str, score: int) -> bool:
        async with self.sessions.begin() as session:
            return await survey.record(session, conversation_id, score)

    async def typing(self, conversation_id: str, role: str, name: str | None = None) -> None:
        """Not stored: a hint that lives only while both sides are connected."""
        body: dict[str, Any] = {"type": "typing", "role": role}
        if name:
            body["name"] = name
        await self.publish(conversation_id, body)

    async def back_to_bot(self, conversation_id: str) -> None:
        """The customer stops waiting for a person. Rasa first: if the bot can't take the
        conversation back, the customer stays in the queue."""
        async with self.sessions() as session:
            if (await get_conversation(session, conversation_id)).mode != Mode.QUEUED:
                raise QueueError("only a conversation waiting in the queue can go back to the bot")
        await self.resume_bot(conversation_id, {})
        async with self.work() as work:
            await customer_back_to_bot(work, conversation_id, self.policy.messages["back_to_bot"])

    async def leave_callback(self, conversation_id: str, contact: callbacks.Contact) -> None:
        async with self.work() as work:
            await callbacks.request_callback(work.session, conversation_id, contact)
            thanks = await add_message(
                work.session, conversation_id, Role.SYSTEM, self.policy.messages["callback_saved"]
            )
            work.said(conversation_id, thanks)
            work.queue_changed = True  # desks show the call-back on the queue card

    # --- the bot --------------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    async def _respond(self, conversation_id: str, message: StoredMessage, reopened: bool) -> None:
        try:
            async with self._turn(conversation_id):
                await self._bot_turn(conversation_id, message, reopened)
        except Exception:
            log.exception("bot turn failed for conversation %s", conversation_id)

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
        secret, timeout = self.settings.rasa_jwt_secret, self.settings.rasa_timeout_seconds
        await rasa_client.resume(self.rasa, secret, conversation_id, CLEARED_SLOTS | slots, timeout)
        if new_session:
            await rasa_client.execute(
                self.rasa, secret, conversation_id, SESSION_START_ACTION, timeout
            )

    async def _bot_turn(self, conversation_id: str, message: StoredMessage, reopened: bool) -> None:
        async with self.sessions() as session:
            conversation = await get_conversation(session, conversation_id)
            mode, language = conversation.mode, conversation.language
            customer_id = conversation.customer_id
        if mode != Mode.BOT:
            return  # a person owns the conversation: nothing goes to the bot (N6)
        metadata = {"language": language, "customer_id": customer_id}
        try:
            if not self.actions.healthy and not await self.actions.check(self.rasa):
                raise rasa_client.RasaUnavailable("the action server is not answering")
            if reopened:
                await self.resume_bot(conversation_id, {}, new_session=True)
            answers = await self._ask_rasa(conversation_id, message.text, metadata)
            if not answers:
                # Rasa answers 200 with nothing when a custom action fails (the action server
                # is down, say): in bot mode every message gets an answer, so this is a failure
                raise rasa_client.RasaUnavailable("the bot gave no answer to this message")
            _check_not_looping(answers)
        except rasa_client.RasaUnavailable as error:
            log.warning("bot unavailable for %s: %s", conversation_id, error)
            await self._hand_over_unavailable(conversation_id, message, str(error), language)
            return
        await self.relay(conversation_id, answers)

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
        budget = self.settings.rasa_timeout_seconds
        started = loop.time()
        try:
            async with asyncio.timeout(budget):
                await self._rasa_slots.acquire()
        except TimeoutError:
            raise rasa_client.RasaUnavailable(
                f"the bot is busy: no turn within {budget:.0f} s"
            ) from None
        try:
            left = budget - (loop.time() - started)
            # it would time out at Rasa, which would still do the work for nobody (at most half
            # the budget: a message that did not wait always goes, so the average stays current)
            if left < max(MIN_RASA_SECONDS, min(2 * self._rasa_seconds, budget / 2)):
                raise rasa_client.RasaUnavailable(
                    f"the bot is busy: waited {budget - left:.1f} s for a turn"
                )
            sent = loop.time()
            answers = await rasa_client.send(self.rasa, conversation_id, text, metadata, left)
            self._rasa_seconds += 0.2 * (loop.time() - sent - self._rasa_seconds)
            return answers
        finally:
            self._rasa_slots.release()

    async def relay(self, conversation_id: str, answers: list[dict[str, Any]]) -> None:
        """Store and push what the bot said; a handoff payload queues the conversation."""
        async with self.work() as work:
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
        status, _ = await availability(work.session, self.policy.desk.hours, self.now())
        if status == Availability.OPEN:
            return
        text = self.policy.messages[status].replace("{hours}", self.policy.desk.hours.describe)
        notice = await add_message(
            work.session,
            conversation_id,
            Role.SYSTEM,
            text,
            payload={"callback": True, "availability": str(status)},
        )
        work.said(conversation_id, notice)

    async def _hand_over_unavailable(
        self, conversation_id: str, message: StoredMessage, error: str, language: str
    ) -> None:
        async with self.work() as work:
            try:
                notice = await add_message(
                    work.session,
                    conversation_id,
                    Role.SYSTEM,
                    self.policy.messages["bot_unavailable"],
                )
            except Closed:
                return
            work.said(conversation_id, notice)
            brief = await _unavailable_brief(
                work.session, conversation_id, message, error, language
            )
            ticket = await open_handoff(
                work, conversation_id, brief, actor="service", policy_version=self.policy.version
            )
            if ticket is not None:
                await self._availability_notice(work, conversation_id)

    async def confirm_outcome(self, conversation_id: str) -> None:
        """After a person hands back, the bot welcomes the customer and confirms what was done
        (from the outcome slots); if it can't, the service says the customer is back with it."""
        try:
            answers = await rasa_client.execute(
                self.rasa,
                self.settings.rasa_jwt_secret,
                conversation_id,
                HANDED_BACK_ACTION,
                self.settings.rasa_timeout_seconds,
            )
        except rasa_client.RasaUnavailable as error:
            log.warning("bot could not confirm the outcome for %s: %s", conversation_id, error)
            answers = []
        if not any(answer.get("text") for answer in answers):
            answers = [{"text": self.policy.messages["back_to_bot"]}]
        async with self._turn(conversation_id):
            await self.relay(conversation_id, answers)

    # --- live delivery --------------------------------------------------------------------

    async def publish(self, conversation_id: str, body: dict[str, Any]) -> None:
        """To everyone watching the conversation: its customer, its agent, a supervisor."""
        await self.hub.publish(conversation_id, body | {"conversation_id": conversation_id})

    async def publish_desk(self, body: dict[str, Any]) -> None:
        """To every desk socket on every replica."""
        await self.hub.publish(DESK_FEED, body)

    async def queue_changed(self) -> None:
        """Desks reload the queue; every replica updates its waiting customers' positions."""
        await self.publish_desk({"type": "queue"})

    def _on_desk_feed(self, body: dict[str, Any]) -> None:
        if body.get("type") == "queue" and not self._positions_due:
            self._positions_due = True  # a burst of changes makes one update
            self._spawn(self._send_positions())

    async def _send_positions(self) -> None:
        await asyncio.sleep(0.05)
        self._positions_due = False
        watched = self.hub.watched() - {DESK_FEED}
        if not watched:
            return
        try:
            async with self.sessions() as session:
                statuses = await self._queue_statuses(session)
        except Exception:
            log.exception("computing queue positions failed")
            return
        for conversation_id in watched & statuses.keys():
            status = statuses[conversation_id] | {"conversation_id": conversation_id}
            await self.hub.deliver(conversation_id, status)

    async def queue_status(self, conversation_id: str) -> dict[str, Any] | None:
        async with self.sessions() as session:
            return (await self._queue_statuses(session)).get(conversation_id)

    async def _queue_statuses(self, session: AsyncSession) -> dict[str, dict[str, Any]]:
        places = await positions(session)
        if not places:
            return {}
        status, online = await availability(session, self.policy.desk.hours, self.now())
        handle = await average_handle_seconds(session, self.policy.desk.default_handle_seconds)
        return {
            conversation_id: {
                "type": "queue",
                "position": place,
                "waiting": len(places),
                "agents_online": online,
                "availability": str(status),
                # a rough guide: each online agent takes the next in turn
                "estimated_wait_seconds": math.ceil(place / online) * handle
                if status == Availability.OPEN
                else None,
            }
            for conversation_id, place in places.items()
        }

    async def drain(self) -> None:
        """Let bot turns in flight finish (on shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.settings.rasa_timeout_seconds + 5)


async def _unavailable_brief(
    session: AsyncSession, conversation_id: str, message: StoredMessage, error: str, language: str
) -> dict[str, Any]:
    """The brief the service writes when the bot fails: what the bot did answer before, from the
    transcript (the bot can't say), so the agent knows how far the customer got."""
    answered = await session.scalar(
        select(func.count()).where(
            Message.conversation_id == conversation_id,
            Message.role == Role.BOT,
            Message.seq < message.seq,
        )
    )
    answered = int(answered or 0)
    before = (
        f"Earlier in this conversation the bot sent {answered} "
        f"answer{'s' if answered != 1 else ''}."
        if answered
        else "The bot had not answered anything in this conversation yet."
    )
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
        "bot_answers": answered,
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
        raise rasa_client.RasaUnavailable(f"the bot gave the same answer {repeats} times at once")


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
