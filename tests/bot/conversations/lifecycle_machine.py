"""A model of a conversation's life, explored by Hypothesis against the real service and database.

Customers ask FAQ questions, ask for a person, break the bot, score the chat, resend, reconnect,
go back to the bot and leave call-backs; agents and a supervisor sign in and out, claim, reply,
note, transfer, escalate, join, return and resolve; leases lapse and accounts are deactivated.
The machine predicts what each action must do (its status code, the mode after it, what the bot
says) and after every step checks the invariants of DESIGN.md and RELIABILITY.md against the
database, not against what a client believes:

- N6: no bot message while a person owns the conversation;
- N2, N3: every customer message is stored once, with gapless seqs;
- N5: a queued or assigned conversation has exactly one open ticket, in the matching state and
  held by the right person; any other has none;
- N7: every mode change is one that bot/conversations/lifecycle.py's graph allows and has its
  event row, and the events chain from the start to the mode the conversation is in;
- whenever the conversation is with the bot, an FAQ question gets exactly one answer, the right
  one.

The same machine drives the scripted Rasa (tests/bot/conversations/test_lifecycle.py) and, in a
shorter run, the real Rasa and action servers (tests/e2e/test_lifecycle.py); a `Harness` says which.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import aiohttp
from hypothesis import HealthCheck, Phase
from hypothesis import settings as run_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channel.positions import POSITIONS
from bot.conversations.lifecycle import TRANSITIONS, Work
from bot.db.engine import create_engine, session_factory
from bot.db.models import Conversation, Event, Message, Mode, Ticket, TicketStatus, User, utcnow
from bot.desk.queue import release_expired_leases
from bot.desk.staff import create_user, deactivate
from bot.rasa.turn import TURNS

T = TypeVar("T")
PASSWORD = "correct horse battery"
STAFFED = (Mode.QUEUED, Mode.ASSIGNED)


@dataclass
class Harness:
    """What differs between the scripted Rasa and the real one."""

    base: str
    database_url: str
    # (question, the bot's exact answer): each asked at most once while the bot has the
    # conversation (the real bot rightly hands a repeated question to a person)
    faq: list[tuple[str, str]]
    handoff_text: str
    fail_text: str | None  # a message that makes the bot fail (None: the real bot has none)
    # waits until the service has finished what the last request started (bot turns)
    settle: Callable[[Harness, str, int], Coroutine[Any, Any, None]]
    confirms: Callable[[str], bool]  # is this the bot's welcome back after a person?
    identity: Callable[[str], str] | None = None


@dataclass
class Exploration:
    """What the explorations covered, across every example of a run (the closing figures)."""

    steps: int = 0
    examples: int = 0
    paths: set[tuple[str, ...]] = field(default_factory=set)
    rules: Counter[str] = field(default_factory=Counter)
    moves: Counter[str] = field(default_factory=Counter)  # (from -> to) made by the model

    def summary(self) -> str:
        return (
            f"{self.examples} runs, {self.steps} steps, {len(self.paths)} distinct paths through "
            f"the modes; moves: {dict(sorted(self.moves.items()))}; "
            f"rules tried: {dict(sorted(self.rules.items()))}"
        )


@dataclass
class Conv:
    cid: str
    token: str
    mode: Mode = Mode.BOT
    holder: str | None = None  # who holds its ticket, when assigned
    escalated: bool = False
    survey_pending: bool = False  # the last message is the satisfaction question
    sent: dict[str, int] = field(default_factory=dict)  # client_msg_id -> seq
    asked: int = 0  # FAQ questions since the bot last took the conversation
    path: list[str] = field(default_factory=lambda: [Mode.BOT])
    checked_seq: int = 0
    checked_mode: Mode = Mode.BOT

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def set_mode(self, mode: Mode) -> None:
        if mode != self.mode:
            self.path.append(mode)
            self.asked = 0
        self.mode = mode
        if mode not in STAFFED:
            self.holder, self.escalated = None, False


@dataclass
class Staff:
    username: str
    role: str
    limit: int
    active: bool = True
    http: aiohttp.ClientSession | None = None
    csrf: str = ""


class LifecycleMachine(RuleBasedStateMachine):
    """Subclassed per run with `harness`, `loop`, `http` and `exploration` set."""

    harness: Harness
    loop: asyncio.AbstractEventLoop
    exploration: Exploration
    run_id = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.run = next(self.run_id)
        self.conversations: list[Conv] = []
        self.staff: list[Staff] = []
        self.counter = itertools.count()
        self.engine: AsyncEngine = create_engine(self.harness.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.http = self.sync(self._client())
        self.exploration.examples += 1

    # --- plumbing ---------------------------------------------------------------------------

    def sync(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    async def _client(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.harness.base)

    def teardown(self) -> None:
        for conv in self.conversations:
            self.exploration.paths.add(tuple(conv.path))
            self.exploration.moves.update(f"{a}->{b}" for a, b in itertools.pairwise(conv.path))
        for person in self.staff:
            if person.http is not None:
                self.sync(person.http.close())
        self.sync(self.http.close())
        self.sync(self.engine.dispose())

    def step(self, name: str) -> None:
        self.exploration.steps += 1
        self.exploration.rules[name] += 1

    async def _call(
        self, http: aiohttp.ClientSession, method: str, path: str, body: Any = None, **kw: Any
    ) -> tuple[int, Any]:
        async with http.request(method, path, json=body, **kw) as response:
            text = await response.text()
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, text

    def customer_call(self, conv: Conv, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"/api/conversations/{conv.cid}/{path}"
        return self.sync(self._call(self.http, "POST", url, body, headers=conv.auth))

    def desk_call(self, person: Staff, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert person.http is not None
        headers = {"X-CSRF-Token": person.csrf}
        return self.sync(self._call(person.http, method, path, body, headers=headers))

    def messages(self, conv: Conv) -> list[Message]:
        async def read() -> list[Message]:
            async with self.sessions() as session:
                rows = await session.scalars(
                    select(Message).where(Message.conversation_id == conv.cid).order_by(Message.seq)
                )
                return list(rows)

        return self.sync(read())

    def said_since(self, conv: Conv, seq: int) -> list[Message]:
        return [m for m in self.messages(conv) if m.seq > seq]

    def last_seq(self, conv: Conv) -> int:
        stored = self.messages(conv)
        return stored[-1].seq if stored else 0

    def pick(self, items: list[T], index: int) -> T:
        return items[index % len(items)]

    def may_work(self, person: Staff, conv: Conv) -> bool:
        """queue.owned_ticket: its holder, or a supervisor on any open ticket."""
        return conv.mode in STAFFED and (
            person.role == "supervisor"
            or (conv.mode == Mode.ASSIGNED and conv.holder == person.username)
        )

    def held_by(self, person: Staff) -> int:
        return sum(
            1 for c in self.conversations if c.mode == Mode.ASSIGNED and c.holder == person.username
        )

    # --- set-up -----------------------------------------------------------------------------

    @initialize()
    def people(self) -> None:
        """Two agents (at most two conversations each) and a supervisor, signed in."""
        for role, limit in (("agent", 2), ("agent", 2), ("supervisor", 3)):
            self.hire(role, limit)

    def hire(self, role: str, limit: int) -> None:
        person = Staff(f"{role[:3]}{self.run}x{len(self.staff)}", role, limit)

        async def make() -> None:
            async with self.sessions.begin() as session:
                await create_user(
                    session, username=person.username, display_name=person.username.title(),
                    role=person.role, password=PASSWORD, max_concurrent=person.limit,
                )  # fmt: skip

        self.sync(make())
        self.staff.append(person)
        self.sign_in(person)

    def sign_in(self, person: Staff) -> None:
        async def login() -> tuple[aiohttp.ClientSession, str]:
            http = aiohttp.ClientSession(
                self.harness.base, cookie_jar=aiohttp.CookieJar(unsafe=True)
            )
            async with http.post(
                "/desk/api/login", json={"username": person.username, "password": PASSWORD}
            ) as response:
                assert response.status == 200, await response.text()
                return http, (await response.json())["csrf_token"]

        person.http, person.csrf = self.sync(login())

    # --- customers --------------------------------------------------------------------------

    @precondition(lambda self: len(self.conversations) < 3)
    @rule()
    def start(self) -> None:
        self.step("start")
        body: dict[str, Any] = {"language": "en"}
        status, started = self.sync(self._call(self.http, "POST", "/api/conversations", body))
        assert status == 201, started
        self.conversations.append(Conv(started["conversation_id"], started["token"]))

    def send(self, conv: Conv, text: str) -> int:
        client_msg_id = f"m{next(self.counter)}"
        status, body = self.customer_call(
            conv, "messages", {"client_msg_id": client_msg_id, "text": text}
        )
        assert status == 201, (status, body)
        conv.sent[client_msg_id] = int(body["seq"])
        return int(body["seq"])

    def write(self, conv: Conv, text: str, bot_answers: bool) -> list[Message]:
        """The customer writes; returns what everyone but the customer said after it."""
        seq = self.send(conv, text)
        self.sync(self.harness.settle(self.harness, conv.cid, seq if bot_answers else 0))
        return self.said_since(conv, seq)

    def reopens(self, conv: Conv) -> bool:
        """A message to a closed conversation brings the bot back (unless it is a score)."""
        if conv.mode == Mode.CLOSED:
            conv.set_mode(Mode.BOT)
            conv.survey_pending = False
            return True
        return False

    def unasked(self) -> list[Conv]:
        return [c for c in self.conversations if c.asked < len(self.harness.faq)]

    @precondition(lambda self: self.unasked())
    @rule(which=st.integers(0, 9))
    def ask_faq(self, which: int) -> None:
        self.step("ask_faq")
        conv = self.pick(self.unasked(), which)
        question, answer = self.harness.faq[conv.asked]
        with_bot = conv.mode == Mode.BOT or self.reopens(conv)
        after = self.write(conv, question, bot_answers=with_bot)
        said = [(m.role, m.text) for m in after]
        if with_bot:  # exactly one answer, the right one
            assert said == [("bot", answer)], said
        else:
            assert [text for role, text in said if role == "bot"] == [], said
        conv.asked += 1
        conv.survey_pending = False

    @precondition(lambda self: self.conversations)
    @rule(which=st.integers(0, 9))
    def ask_for_a_person(self, which: int) -> None:
        self.step("ask_for_a_person")
        conv = self.pick(self.conversations, which)
        with_bot = conv.mode == Mode.BOT or self.reopens(conv)
        after = self.write(conv, self.harness.handoff_text, bot_answers=with_bot)
        if with_bot:
            said = [(m.role, m.text) for m in after]
            assert [role for role, _ in said][:1] == ["bot"], said  # a person will come
            conv.set_mode(Mode.QUEUED)
        conv.survey_pending = False

    @precondition(lambda self: self.conversations and self.harness.fail_text)
    @rule(which=st.integers(0, 9))
    def break_the_bot(self, which: int) -> None:
        self.step("break_the_bot")
        conv = self.pick(self.conversations, which)
        with_bot = conv.mode == Mode.BOT or self.reopens(conv)
        assert self.harness.fail_text is not None
        after = self.write(conv, self.harness.fail_text, bot_answers=with_bot)
        if with_bot:  # told plainly, and handed to a person: bot_unavailable
            said = [(m.role, m.text) for m in after]
            assert [role for role, _ in said][:1] == ["system"], said
            conv.set_mode(Mode.QUEUED)
        conv.survey_pending = False

    @precondition(lambda self: any(c.survey_pending for c in self.conversations))
    @rule(which=st.integers(0, 9), score=st.integers(1, 5))
    def score_the_chat(self, which: int, score: int) -> None:
        self.step("score_the_chat")
        self.scores(self.pick([c for c in self.conversations if c.survey_pending], which), score)

    def scores(self, conv: Conv, score: int) -> None:
        """A bare 1-5 right after the satisfaction question answers it: nobody else replies."""
        after = self.write(conv, str(score), bot_answers=False)
        assert after == [], [(m.role, m.text) for m in after]
        conv.survey_pending = False
        self.exploration.moves["scored"] += 1

    @precondition(lambda self: any(c.sent for c in self.conversations))
    @rule(which=st.integers(0, 9))
    def resend(self, which: int) -> None:
        """The widget retries a message it got no acknowledgement for: stored once (N2)."""
        self.step("resend")
        conv = self.pick([c for c in self.conversations if c.sent], which)
        client_msg_id, seq = next(reversed(conv.sent.items()))
        before = self.last_seq(conv)
        status, body = self.customer_call(
            conv, "messages", {"client_msg_id": client_msg_id, "text": "again"}
        )
        assert (status, body["seq"]) == (200, seq), body
        assert self.last_seq(conv) == before

    @precondition(lambda self: self.conversations)
    @rule(which=st.integers(0, 9))
    def back_to_the_bot(self, which: int) -> None:
        self.step("back_to_the_bot")
        conv = self.pick(self.conversations, which)
        status, body = self.customer_call(conv, "back-to-bot")
        if conv.mode == Mode.QUEUED:
            assert status == 200, body
            conv.set_mode(Mode.BOT)
        else:
            assert status == 409, (status, body)

    @precondition(lambda self: self.conversations)
    @rule(which=st.integers(0, 9))
    def leave_a_call_back(self, which: int) -> None:
        self.step("leave_a_call_back")
        conv = self.pick(self.conversations, which)
        status, body = self.customer_call(
            conv, "callback", {"email": "sam@example.com", "note": "after 5pm please"}
        )
        waiting = conv.mode == Mode.QUEUED
        assert status == (201 if waiting else 409), (status, body)
        if waiting:
            conv.survey_pending = False

    @precondition(lambda self: self.conversations)
    @rule(which=st.integers(0, 9), back=st.integers(0, 4))
    def reconnect(self, which: int, back: int) -> None:
        """A reconnect with since_seq=k gets exactly the messages after k, in order (N4)."""
        self.step("reconnect")
        conv = self.pick(self.conversations, which)
        stored = self.messages(conv)
        since = max(0, (stored[-1].seq if stored else 0) - back)
        expected = [m.seq for m in stored if m.seq > since]

        async def replay() -> tuple[dict[str, Any], list[int]]:
            async with self.http.ws_connect(f"/api/conversations/{conv.cid}/ws") as ws:
                await ws.send_json({"type": "hello", "token": conv.token, "since_seq": since})
                mode = await ws.receive_json(timeout=5)
                seqs: list[int] = []
                while len(seqs) < len(expected):
                    frame = await ws.receive_json(timeout=5)
                    if frame.get("type") == "message":
                        seqs.append(frame["seq"])
                return mode, seqs

        mode, seqs = self.sync(replay())
        assert mode["mode"] == conv.mode
        assert seqs == expected

    # --- people at the desk -----------------------------------------------------------------

    def person(self, index: int, *, signed_in: bool = True) -> Staff | None:
        people = [s for s in self.staff if s.active and (s.http is not None) == signed_in]
        return self.pick(people, index) if people else None

    @precondition(lambda self: any(c.mode == Mode.QUEUED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def claim(self, who: int, which: int) -> None:
        self.step("claim")
        person = self.person(who)
        if person is None or not self.conversations:
            return
        conv = self.pick(self.conversations, which)
        status, waiting = self.desk_call(person, "GET", "/desk/api/queue")
        assert status == 200
        tickets = [t for t in waiting["waiting"] if t["conversation_id"] == conv.cid]
        assert len(tickets) == (conv.mode == Mode.QUEUED), waiting  # never invisible (N5)
        if not tickets:
            return
        status, body = self.desk_call(
            person, "POST", f"/desk/api/tickets/{tickets[0]['ticket_id']}/claim"
        )
        if self.held_by(person) < person.limit:
            assert status == 200, body
            conv.set_mode(Mode.ASSIGNED)
            conv.holder = person.username
        else:
            assert status == 409, (status, body)

    @precondition(lambda self: any(c.mode == Mode.QUEUED for c in self.conversations))
    @rule(
        who=st.integers(0, 9),
        which=st.integers(0, 9),
        ending=st.sampled_from(["keeps it", "resolves", "resolves, scored", "returns"]),
    )
    def an_agent_handles_it(self, who: int, which: int, ending: str) -> None:
        """The usual way through the desk in one step (the rules above interleave it): claim,
        reply, and end it, so that explorations get past the first handoff."""
        queued = [c for c in self.conversations if c.mode == Mode.QUEUED]
        conv = self.pick(queued, which)
        self.claim(who, self.conversations.index(conv))
        if conv.mode != Mode.ASSIGNED:
            return  # the agent had no room for it
        desk = [s for s in self.staff if s.active and s.http is not None]
        holder = desk.index(next(s for s in desk if s.username == conv.holder))
        where = self.conversations.index(conv)
        self.reply(holder, where)
        if ending.startswith("resolves"):
            self.resolve(holder, where, 4 if ending.endswith("scored") else None)
        elif ending == "returns":
            self.return_to_the_bot(holder, where)

    def on_conversation(
        self, who: int, which: int, action: str, body: Any = None
    ) -> tuple[Staff, Conv, int, Any] | None:
        person = self.person(who)
        if person is None or not self.conversations:
            return None
        conv = self.pick(self.conversations, which)
        status, answer = self.desk_call(
            person, "POST", f"/desk/api/conversations/{conv.cid}/{action}", body
        )
        return person, conv, status, answer

    def refused(self, status: int, answer: Any) -> None:
        assert status in (403, 409), (status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def reply(self, who: int, which: int) -> None:
        self.step("reply")
        done = self.on_conversation(who, which, "messages", {"text": "Let me look at that."})
        if done is None:
            return
        person, conv, status, answer = done
        if self.may_work(person, conv) and conv.mode == Mode.ASSIGNED:
            assert status == 201, answer
            conv.survey_pending = False
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def note(self, who: int, which: int) -> None:
        self.step("note")
        done = self.on_conversation(who, which, "notes", {"text": "checked the carrier"})
        if done is None:
            return
        person, conv, status, answer = done
        if self.may_work(person, conv):
            assert status == 201, answer
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def transfer_to_a_team(self, who: int, which: int) -> None:
        self.step("transfer_to_a_team")
        done = self.on_conversation(who, which, "transfer", {"to_team": "billing"})
        if done is None:
            return
        person, conv, status, answer = done
        if self.may_work(person, conv) and conv.mode == Mode.ASSIGNED:
            assert status == 200, answer
            conv.set_mode(Mode.QUEUED)
            conv.survey_pending = False
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9), to=st.integers(0, 9))
    def transfer_to_a_colleague(self, who: int, which: int, to: int) -> None:
        self.step("transfer_to_a_colleague")
        target = self.pick(self.staff, to)
        done = self.on_conversation(who, which, "transfer", {"to_agent": target.username})
        if done is None:
            return
        person, conv, status, answer = done
        if (
            self.may_work(person, conv)
            and conv.mode == Mode.ASSIGNED
            and target.active
            and target.username != conv.holder
            and self.held_by(target) < target.limit
        ):
            assert status == 200, answer
            conv.holder = target.username
            conv.survey_pending = False
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def escalate(self, who: int, which: int) -> None:
        self.step("escalate")
        done = self.on_conversation(who, which, "escalate", {"note": "wants a manager"})
        if done is None:
            return
        person, conv, status, answer = done
        if self.may_work(person, conv) and not conv.escalated:
            assert status == 200, answer
            conv.escalated = True
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def join(self, who: int, which: int) -> None:
        self.step("join")
        done = self.on_conversation(who, which, "join")
        if done is None:
            return
        person, conv, status, answer = done
        if person.role == "supervisor" and conv.mode in STAFFED:
            assert status == 200, answer
            conv.survey_pending = False
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(who=st.integers(0, 9), which=st.integers(0, 9))
    def return_to_the_bot(self, who: int, which: int) -> None:
        self.step("return_to_the_bot")
        person = self.person(who)
        if person is None or not self.conversations:
            return
        conv = self.pick(self.conversations, which)
        before = self.last_seq(conv)
        done = self.on_conversation(who, which, "return", {"outcome": "resolved"})
        assert done is not None
        _, _, status, answer = done
        if self.may_work(person, conv):
            assert status == 200, answer
            conv.set_mode(Mode.BOT)
            conv.survey_pending = False
            said = [m for m in self.said_since(conv, before) if m.role == "bot"]
            assert len(said) == 1 and self.harness.confirms(said[0].text), [m.text for m in said]
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(c.mode in STAFFED for c in self.conversations))
    @rule(
        who=st.integers(0, 9),
        which=st.integers(0, 9),
        score=st.none() | st.integers(1, 5),  # most customers answer the question at once
    )
    def resolve(self, who: int, which: int, score: int | None) -> None:
        self.step("resolve")
        done = self.on_conversation(who, which, "resolve", {"wrap_up": "resolved"})
        if done is None:
            return
        person, conv, status, answer = done
        if self.may_work(person, conv):
            assert status == 200, answer
            conv.set_mode(Mode.CLOSED)
            conv.survey_pending = True
            if score is not None:
                self.scores(conv, score)
        else:
            self.refused(status, answer)

    @precondition(lambda self: any(s.active and s.http is not None for s in self.staff))
    @rule(who=st.integers(0, 9))
    def sign_out(self, who: int) -> None:
        self.step("sign_out")
        person = self.person(who)
        if person is None:
            return
        status, answer = self.desk_call(person, "POST", "/desk/api/logout")
        assert status == 200, answer
        assert person.http is not None
        self.sync(person.http.close())
        person.http = None
        for conv in self.conversations:
            if conv.mode == Mode.ASSIGNED and conv.holder == person.username:
                conv.set_mode(Mode.QUEUED)

    @precondition(lambda self: any(s.active and s.http is None for s in self.staff))
    @rule(who=st.integers(0, 9))
    def sign_back_in(self, who: int) -> None:
        self.step("sign_back_in")
        person = self.person(who, signed_in=False)
        if person is not None:
            self.sign_in(person)

    @precondition(lambda self: any(c.mode == Mode.ASSIGNED for c in self.conversations))
    @rule()
    def leases_lapse(self) -> None:
        """Everyone holding a conversation goes silent past the lease: what the reaper does."""
        self.step("leases_lapse")

        async def lapse() -> list[str]:
            async with self.sessions.begin() as session:
                later = utcnow() + timedelta(hours=1)
                return await release_expired_leases(Work(session, later))

        released = set(self.sync(lapse()))  # earlier runs' conversations share the database
        lapsed = [c for c in self.conversations if c.mode == Mode.ASSIGNED]
        assert released & {c.cid for c in self.conversations} == {c.cid for c in lapsed}
        for conv in lapsed:
            conv.set_mode(Mode.QUEUED)

    @precondition(lambda self: sum(not s.active for s in self.staff) < 2)
    @rule(who=st.integers(0, 9))
    def deactivate_an_agent(self, who: int) -> None:
        """`python -m bot users deactivate`: signed out everywhere, conversations requeued; a
        new colleague takes the seat so the desk is never empty."""
        self.step("deactivate_an_agent")
        agents = [s for s in self.staff if s.active and s.role == "agent"]
        if not agents:
            return
        person = self.pick(agents, who)

        async def run() -> None:
            async with self.sessions.begin() as session:
                await deactivate(session, person.username, utcnow())

        self.sync(run())
        person.active = False
        for conv in self.conversations:
            if conv.mode == Mode.ASSIGNED and conv.holder == person.username:
                conv.set_mode(Mode.QUEUED)
        if person.http is not None:
            self.sync(person.http.close())
            person.http = None
        self.hire("agent", 2)

    # --- what must always hold --------------------------------------------------------------

    @invariant()
    def the_database_agrees(self) -> None:
        if not self.conversations:
            return
        self.sync(self._check())

    async def _check(self) -> None:
        async with self.sessions() as session:
            for conv in self.conversations:
                await self._check_one(session, conv)

    async def _check_one(self, session: AsyncSession, conv: Conv) -> None:
        row = await session.get(Conversation, conv.cid, populate_existing=True)
        assert row is not None
        assert row.mode == conv.mode, f"{conv.cid}: model {conv.mode}, database {row.mode}"

        stored = list(
            await session.scalars(
                select(Message).where(Message.conversation_id == conv.cid).order_by(Message.seq)
            )
        )
        # N3: gapless, and the counter agrees; N2: each message the customer sent, once
        assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
        assert row.last_seq == len(stored)
        customer = Counter(m.client_msg_id for m in stored if m.role == "customer")
        assert customer == Counter(conv.sent.keys()), customer
        assert {m.client_msg_id: m.seq for m in stored if m.client_msg_id} == conv.sent

        # N6: a conversation a person owned throughout since the last check heard no bot
        new = [m for m in stored if m.seq > conv.checked_seq]
        if conv.checked_mode in STAFFED and conv.mode in STAFFED:
            assert [m.text for m in new if m.role == "bot"] == [], conv.cid
        conv.checked_seq, conv.checked_mode = len(stored), conv.mode

        # N5: one open ticket while with people, in the matching state and hands; none otherwise
        open_tickets = list(
            await session.scalars(
                select(Ticket).where(
                    Ticket.conversation_id == conv.cid, Ticket.status != TicketStatus.CLOSED
                )
            )
        )
        if conv.mode in STAFFED:
            [ticket] = open_tickets
            if conv.mode == Mode.QUEUED:
                assert (ticket.status, ticket.agent_id) == (TicketStatus.WAITING, None)
            else:
                holder = await session.scalar(select(User).filter_by(username=conv.holder))
                assert holder is not None
                assert (ticket.status, ticket.agent_id) == (TicketStatus.ASSIGNED, holder.id)
        else:
            assert open_tickets == []

        # N7: every mode change is allowed by the graph, chained, and ends where the row is
        events = list(
            await session.scalars(
                select(Event).where(Event.conversation_id == conv.cid).order_by(Event.id)
            )
        )
        mode: str | None = None
        for made in events:
            if made.to_mode is None or made.from_mode == made.to_mode == Mode.ASSIGNED:
                continue  # not a mode change (a note, a grant, a hand-over between people)
            key = (Mode(made.from_mode) if made.from_mode else None, Mode(made.to_mode))
            assert made.kind in TRANSITIONS.get(key, ()), f"{made.kind}: {key} is not allowed"
            assert made.from_mode == mode, f"{made.kind} from {made.from_mode}, was in {mode}"
            assert made.actor, made
            mode = made.to_mode
        assert mode == row.mode


def explore(
    harness: Harness,
    loop: asyncio.AbstractEventLoop,
    examples: int,
    steps: int,
    *,
    seeded: bool,
    shrink: bool = True,
) -> Exploration:
    """Run the machine `examples` times for up to `steps` steps each; what it covered. `seeded`
    runs the same sample every time (make test); otherwise pytest's --hypothesis-seed decides."""
    exploration = Exploration()
    machine = type(
        "Lifecycle",
        (LifecycleMachine,),
        {"harness": harness, "loop": loop, "exploration": exploration},
    )
    phases = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if shrink else [])
    try:
        run_state_machine_as_test(
            machine,
            settings=run_settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                derandomize=seeded,
                database=None,
                phases=phases,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        print(f"\nlifecycle exploration ({harness.database_url.split(':')[0]}): "
              f"{exploration.summary()}")  # fmt: skip
    assert exploration.steps > examples  # it explored, rather than stopping at the set-up
    return exploration


def settle_in_process(app: Any) -> Callable[[Harness, str, int], Coroutine[Any, Any, None]]:
    """The service in this process: wait until its bot turns (and what they spawned) are done."""

    async def settle(harness: Harness, cid: str, seq: int) -> None:
        deadline = time.monotonic() + 10
        while app[TURNS]._tasks or app[POSITIONS]._tasks:
            assert time.monotonic() < deadline, "bot turns still running after 10 s"
            await asyncio.sleep(0.005)

    return settle


async def settle_over_http(harness: Harness, cid: str, seq: int) -> None:
    """A service in another process: when the bot is to answer the message at `seq`, wait until
    something after it is stored, then a moment more (a second turn's answers would be a bug)."""
    if not seq:
        return
    # the transcript is read through the database: the service commits before it publishes
    engine = create_engine(harness.database_url)
    try:
        sessions = session_factory(engine)
        deadline = time.monotonic() + 30
        while True:
            async with sessions() as session:
                after = await session.scalar(
                    select(Message.seq).where(
                        Message.conversation_id == cid,
                        Message.seq > seq,
                        Message.role != "customer",
                    )
                )
            if after is not None:
                break
            assert time.monotonic() < deadline, f"no answer to seq {seq} after 30 s"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.4)
    finally:
        await engine.dispose()
