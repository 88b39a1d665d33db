"""The designer's inbox: customer messages worth a look, each with why it is there.

From Rasa's SQL tracker store (what the NLU made of each message, with its intent ranking):
messages not understood or understood only weakly, answered as out of scope, or followed by
the customer saying the answer didn't help. From the service's database: the messages of
conversations handed over for `nlu_failure` or `frustration`, and of handoffs an agent wrapped up
as `bot_could_have_answered`. Messages already labelled are left out.

Designers improve the bot from what customers wrote, not from who they are: the texts come
without personal data (`without_personal_data`). E-mail addresses, phone and card numbers, and
the customer's own name, e-mail and phone as the shop knows them, are replaced by stand-ins that
read naturally (name@example.com, 555-0100, Alex), so a labelled message is still a good
training example and no customer's details reach the training data. Order numbers stay: the bot
has to learn to read them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from actions.handoff.decision import confident_faq
from actions.handoff.policy import Policy
from actions.handoff.turns import Turn, misunderstood, turn_from_parse, unfinished
from bot.db.models import Conversation, Customer, LabelledMessage, Message, Role, Ticket
from bot.designer.nlu_files import normalised

REASONS = {
    "not_understood": "the bot did not understand it and asked again",
    "low_confidence": "answered, but the bot was not sure",
    "out_of_scope": "answered as something the bot can't help with",
    "called_unhelpful": "the customer said the answer didn't help",
    "handoff_nlu_failure": "in a conversation handed over after repeated misunderstanding",
    "handoff_frustration": "in a conversation handed over because the customer was frustrated",
    "bot_could_have_answered": "an agent said the bot could have answered this conversation",
}
# What made the bot unsure, for a group of messages (each message says it with its own numbers).
CAUSES = {
    "cut_off": "they stop mid-phrase, so the bot asked again whatever the scores",
    "ambiguous": "two intents scored too close to tell apart, so the bot asked again",
    "no_intent": "no intent was sure enough (or too few of the words were known), so the bot "
    "asked again",
    "topic_too_low": "the bot was surer that these are FAQ questions than of their topic, which "
    "was too low to answer",
    "topic_unsure": "the bot was surer that these are FAQ questions than of their topic: the "
    "ranking shows the first, the bot counts as sure only when both are high",
    "faq_unsure": "the bot was sure of the topic, less that these are FAQ questions at all",
    "left_to_people": "read as something only a person handles, too weakly to hand over, so the "
    "bot asked again",
    "asked_again": "the bot asked the customer to say it again",
}
HANDOFF_MESSAGES = 3  # the customer's last messages before a handoff

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# ten digits or more, with what people type between them ("+1 (555) 010-0199", a card number);
# order numbers (eight digits) stay
LONG_NUMBER = re.compile(r"\+?\(?\d(?:[ ().-]{0,3}\d){9,}")
STAND_IN_EMAIL, STAND_IN_PHONE, STAND_IN_NAME = "name@example.com", "555-0100", "Alex"


@dataclass(frozen=True)
class Known:
    """What the shop knows of the customer a conversation is linked to."""

    name: str
    email: str
    phone: str | None


def without_personal_data(text: str, known: Known | None = None) -> str:
    """`text` with e-mail addresses, long numbers (phones, cards) and the customer's own name,
    e-mail and phone (when the conversation is linked to a customer) replaced by stand-ins."""
    if known is not None:
        for value, stand_in in ((known.email, STAND_IN_EMAIL), (known.phone, STAND_IN_PHONE)):
            if value:
                text = re.sub(re.escape(value), stand_in, text, flags=re.IGNORECASE)
        # the whole name, then each part of it (customers write "maya", or "Ms Patel")
        names = [known.name, *known.name.split()]
        for name in (n for n in names if len(n) >= 3):
            text = re.sub(rf"\b{re.escape(name)}\b", STAND_IN_NAME, text, flags=re.IGNORECASE)
    text = EMAIL.sub(STAND_IN_EMAIL, text)
    return LONG_NUMBER.sub(STAND_IN_PHONE, text)


@dataclass
class Item:
    key: str
    conversation_id: str
    text: str
    at: str
    reasons: list[str] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    ranking: list[tuple[str, float]] = field(default_factory=list)
    language: str = "en"  # the language it is written in, as far as the bot could tell
    # why the bot was unsure when its ranking alone would not say (faq 97% "not sure"): in
    # words with this message's numbers, and as one of CAUSES
    why: str | None = None
    cause: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__ | {"ranking": [list(r) for r in self.ranking]}


def item_key(conversation_id: str, text: str) -> str:
    return hashlib.sha256(f"{conversation_id}\0{normalised(text)}".encode()).hexdigest()[:32]


def tracker_engine(url: str) -> AsyncEngine:
    """An async engine on Rasa's tracker store, which Rasa configures with a sync URL."""
    if url.startswith("sqlite:///"):
        url = url.replace("sqlite:///", "sqlite+aiosqlite:///", 1)
    elif url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    return create_async_engine(url)


def _ranking(parse: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The NLU's top three intents, as the designer compares them."""
    return [
        (str(r.get("name")), round(float(r.get("confidence") or 0), 3))
        for r in (parse.get("intent_ranking") or [])[:3]
    ]


def _acted_on(turn: Turn) -> float:
    """The confidence the gate acts on: for an FAQ answer the topic's (the response selector's,
    which `misunderstood` compares with min_faq_confidence), for any other intent the intent's."""
    return turn.faq_confidence if turn.faq_confidence is not None else turn.confidence


def _percent(share: float) -> str:
    return f"{share:.0%}"


def unsure_why(turn: Turn, policy: Policy) -> tuple[str, str] | None:
    """What made the gate unsure of a message (`misunderstood`, `confident_faq`), for a reason
    the ranking shown beside it seems to contradict: one of CAUSES and the words with this
    message's numbers; None when the bot was sure."""
    if not turn.shorthand and unfinished(turn.text, policy):
        return "cut_off", "It stops mid-phrase, so the bot asked again whatever the scores."
    if turn.intent == "nlu_fallback":
        if turn.confidence >= policy.min_intent_confidence:
            return (
                "ambiguous",
                "Two intents scored too close to tell apart, so the bot asked again.",
            )
        return "no_intent", (
            "No intent reached the bot's threshold of "
            f"{_percent(policy.min_intent_confidence)} (or too few of its words were seen in "
            "training), so the bot asked again."
        )
    if turn.faq_confidence is None or not turn.intent.startswith("faq/"):
        return None
    faq = f"{_percent(turn.confidence)} sure it is an FAQ question"
    topic = f"{_percent(turn.faq_confidence)} sure of the topic ({turn.intent})"
    if turn.faq_confidence < policy.min_faq_confidence:
        return "topic_too_low", (
            f"The bot was {faq} but only {topic}: below "
            f"{_percent(policy.min_faq_confidence)} it asks again instead of answering."
        )
    if not confident_faq(turn, policy):
        both = f"it counts as sure at {_percent(policy.confident_faq)} or more of both"
        if turn.faq_confidence < turn.confidence:
            return "topic_unsure", f"The bot answered, {faq} but only {topic}; {both}."
        return "faq_unsure", f"The bot answered, {topic} but only {faq} at all; {both}."
    return None


def _explain(item: Item, turn: Turn, policy: Policy) -> None:
    if item.why is None and (found := unsure_why(turn, policy)):
        item.cause, item.why = found


def from_tracker_events(
    rows: Iterable[tuple[str, str, float, str | None]], policy: Policy
) -> list[Item]:
    """Items from tracker events (sender_id, type_name, timestamp, data JSON), in event order."""
    items: dict[str, Item] = {}
    last_user: dict[str, Item] = {}
    # each conversation's language so far (the `language` slot), for messages too short to tell
    spoken: dict[str, str] = {}

    def mark(item: Item, reason: str) -> None:
        if reason not in item.reasons:
            item.reasons.append(reason)
        items.setdefault(item.key, item)

    for sender, kind, timestamp, raw in rows:
        data = json.loads(raw or "{}")
        if kind == "user":
            text_ = str(data.get("text") or "")
            if not text_.strip():
                continue
            parse = data.get("parse_data") or {}
            # what the gate saw: the full intent ("faq/order_status") and its confidences
            turn = turn_from_parse(0, text_, parse)
            name = turn.intent
            language = next(
                (
                    str(e.get("value"))
                    for e in parse.get("entities") or []
                    if e.get("entity") == "language" and e.get("value")
                ),
                spoken.get(sender, "en"),
            )
            spoken[sender] = language
            key = item_key(sender, text_)
            item = items.get(key) or Item(
                key,
                sender,
                text_,
                datetime.fromtimestamp(timestamp or 0, UTC).isoformat(),
                intent=name,
                confidence=round(_acted_on(turn), 3),
                ranking=_ranking(parse),
                language=language,
            )
            if name == "feedback_negative" and sender in last_user:
                mark(last_user[sender], "called_unhelpful")
            if misunderstood(turn, policy):  # as the gate judges it (actions/handoff/turns.py)
                mark(item, "not_understood")
                _explain(item, turn, policy)
            elif name == "out_of_scope":
                mark(item, "out_of_scope")
            elif name.startswith("faq/") and not confident_faq(turn, policy):
                mark(item, "low_confidence")  # answered, below the gate's confident_faq
                _explain(item, turn, policy)
            if name != "feedback_negative":
                last_user[sender] = item
        elif kind == "slot" and data.get("name") == "language" and data.get("value"):
            spoken[sender] = str(data["value"])
        elif (
            kind == "slot"
            and data.get("name") == "gate"
            and data.get("value") == "clarify"
            and sender in last_user
        ):
            asked = last_user[sender]
            mark(asked, "not_understood")
            if asked.why is None and asked.intent:
                # the gate's own call (actions/handoff/decision.py): an intent it leaves to people,
                # too weakly recognised to hand over on
                if asked.intent.split("/")[0] not in policy.bot_answers:
                    asked.cause, asked.why = (
                        "left_to_people",
                        (
                            f"The bot asked again: it read it as {asked.intent} "
                            f"({_percent(asked.confidence or 0)}), which it does not answer itself."
                        ),
                    )
                else:
                    asked.cause, asked.why = (
                        "asked_again",
                        "The bot asked the customer to say it again.",
                    )
    return list(items.values())


async def _tracker_items(
    engine: AsyncEngine, policy: Policy, since: datetime, until: datetime
) -> list[Item]:
    query = text(
        "SELECT sender_id, type_name, timestamp, data FROM events "
        "WHERE timestamp >= :since AND timestamp < :until AND type_name IN ('user', 'slot') "
        "ORDER BY sender_id, id"
    )
    async with engine.connect() as connection:
        result = await connection.execute(
            query, {"since": since.timestamp(), "until": until.timestamp()}
        )
        rows = [(r[0], r[1], r[2], r[3]) for r in result]
    return from_tracker_events(rows, policy)


async def _handoff_items(session: AsyncSession, since: datetime, until: datetime) -> list[Item]:
    tickets = await session.scalars(
        select(Ticket).where(Ticket.created_at >= since, Ticket.created_at < until)
    )
    items = []
    for ticket in tickets:
        reasons = []
        if ticket.reason in ("nlu_failure", "frustration"):
            reasons.append(f"handoff_{ticket.reason}")
        if ticket.wrap_up == "bot_could_have_answered":
            reasons.append("bot_could_have_answered")
        if not reasons:
            continue
        messages = await session.scalars(
            select(Message)
            .where(
                Message.conversation_id == ticket.conversation_id,
                Message.role == Role.CUSTOMER,
                Message.created_at <= ticket.created_at,
            )
            .order_by(Message.seq.desc())
            .limit(HANDOFF_MESSAGES)
        )
        conversation = await session.get(Conversation, ticket.conversation_id)
        language = conversation.language if conversation else "en"
        for message in reversed(list(messages)):
            key = item_key(message.conversation_id, message.text)
            items.append(
                Item(
                    key,
                    message.conversation_id,
                    message.text,
                    message.created_at.isoformat(),
                    list(reasons),
                    language=language,
                )
            )
    return items


async def collect(
    session: AsyncSession,
    tracker: AsyncEngine | None,
    policy: Policy,
    since: datetime,
    until: datetime,
) -> list[Item]:
    """Every message worth a look in [since, until), oldest first, labelled ones left out."""
    found: dict[str, Item] = {}
    sources = await _handoff_items(session, since, until)
    if tracker is not None:
        # Rasa creates its tracker store with the first conversation; until then the service's
        # own reasons are still worth showing
        with contextlib.suppress(SQLAlchemyError):
            sources = await _tracker_items(tracker, policy, since, until) + sources
    for item in sources:
        if item.key in found:
            known = found[item.key]
            known.reasons += [r for r in item.reasons if r not in known.reasons]
        else:
            found[item.key] = item
    labelled = set(await session.scalars(select(LabelledMessage.key)))
    wanted = [i for i in found.values() if i.key not in labelled]
    customers = await _customers(session, {i.conversation_id for i in wanted})
    for item in wanted:  # the key stays the stored text's: labels still find their messages
        item.text = without_personal_data(item.text, customers.get(item.conversation_id))
    return sorted(wanted, key=lambda i: (i.at, i.conversation_id, i.text))


async def _customers(session: AsyncSession, conversation_ids: set[str]) -> dict[str, Known]:
    """What the shop knows of the customers of these conversations, by conversation."""
    ids = sorted(conversation_ids)
    found: dict[str, Known] = {}
    for start in range(0, len(ids), 500):  # within any database's limit of bound parameters
        rows = await session.execute(
            select(Conversation.id, Customer.name, Customer.email, Customer.phone)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Conversation.id.in_(ids[start : start + 500]))
        )
        found |= {cid: Known(name, email, phone) for cid, name, email, phone in rows}
    return found
