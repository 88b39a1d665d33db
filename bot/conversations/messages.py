"""Conversations, messages and handoff tickets: the rules every channel goes through.

Data functions take a session; the caller owns the transaction (begins and commits). Races are
settled by the database: seqs come from a conditional UPDATE in the same transaction as the insert,
duplicates by unique constraints. Who owns a conversation (its mode) changes only in
bot/conversations/lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot import errors
from bot.db.models import Conversation, Event, Message, Mode, Role

# Who may add a message in which mode: the bot only while it owns the conversation (N6).
WRITABLE_MODES: dict[str, tuple[str, ...]] = {
    # a customer is never refused: bot/channel/chat.py reopens or rates a closed conversation first
    Role.CUSTOMER: (Mode.BOT, Mode.QUEUED, Mode.ASSIGNED, Mode.CLOSED),
    Role.BOT: (Mode.BOT,),
    Role.AGENT: (Mode.ASSIGNED,),
    Role.SYSTEM: (Mode.BOT, Mode.QUEUED, Mode.ASSIGNED),
}


class NotFound(errors.NotFound):
    public = "no such conversation"


class Closed(errors.Conflict):
    """The conversation does not take messages from this sender in its current mode."""

    code = "closed"


@dataclass(frozen=True)
class StoredMessage:
    id: int
    seq: int
    role: str
    text: str
    payload: dict[str, Any] | None
    client_msg_id: str | None
    created_at: str

    @classmethod
    def of(cls, message: Message) -> StoredMessage:
        return cls(
            id=message.id,
            seq=message.seq,
            role=message.role,
            text=message.text,
            payload=message.payload,
            client_msg_id=message.client_msg_id,
            created_at=message.created_at.isoformat(),
        )

    def as_dict(self) -> dict[str, Any]:
        body = {
            "type": "message",
            "id": self.id,
            "seq": self.seq,
            "role": self.role,
            "text": self.text,
            "created_at": self.created_at,
        }
        if self.payload:
            body |= self.payload
        if self.client_msg_id:
            body["client_msg_id"] = self.client_msg_id
        return body


def event(
    conversation_id: str,
    kind: str,
    actor: str,
    /,
    from_mode: str | None = None,
    to_mode: str | None = None,
    *,
    policy_version: int | None = None,
    **data: Any,
) -> Event:
    """An audit row for a transition or an action on a conversation (N7); the first three are
    positional, so `data` may use their names too (a grant's remedy `kind`)."""
    return Event(
        conversation_id=conversation_id,
        kind=kind,
        actor=actor,
        from_mode=from_mode,
        to_mode=to_mode,
        policy_version=policy_version,
        data=data or None,
    )


async def get_conversation(
    session: AsyncSession, conversation_id: str, *, for_update: bool = False
) -> Conversation:
    """The conversation, or NotFound. `for_update` locks its row until the transaction ends, so
    its mode cannot change under the caller (PostgreSQL; SQLite locks the whole database)."""
    conversation = await session.get(
        Conversation, conversation_id, with_for_update=for_update, populate_existing=for_update
    )
    if conversation is None:
        raise NotFound(conversation_id)
    return conversation


async def find_by_client_id(
    session: AsyncSession, conversation_id: str, client_msg_id: str
) -> StoredMessage | None:
    message = await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id, Message.client_msg_id == client_msg_id
        )
    )
    return StoredMessage.of(message) if message else None


async def unanswered(
    session: AsyncSession,
    conversation_id: str | None = None,
    *,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[tuple[str, StoredMessage]]:
    """Customer messages (stored between `after` and `before`) that nothing answered: in a
    conversation the bot owns, after the last message from anyone else (the bot's answer or the
    service's notice). (conversation id, message) pairs, oldest first."""
    later = aliased(Message)
    answered_up_to = (
        select(func.max(later.seq))
        .where(later.conversation_id == Message.conversation_id, later.role != Role.CUSTOMER)
        .scalar_subquery()
    )
    query = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.mode == Mode.BOT,
            Message.role == Role.CUSTOMER,
            Message.seq > func.coalesce(answered_up_to, 0),
        )
        .order_by(Message.conversation_id, Message.seq)
    )
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    if after is not None:
        query = query.where(Message.created_at >= after)
    if before is not None:
        query = query.where(Message.created_at < before)
    return [(m.conversation_id, StoredMessage.of(m)) for m in await session.scalars(query)]


async def add_message(
    session: AsyncSession,
    conversation_id: str,
    role: Role,
    text: str,
    *,
    client_msg_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> StoredMessage:
    """Append a message with the next seq. Raises Closed if `role` may not write in this mode.

    The seq increment and the insert share the caller's transaction: if the insert fails (a
    concurrent duplicate client_msg_id), the rollback takes the increment with it, so seqs stay
    gapless (N3).
    """
    seq = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.mode.in_(WRITABLE_MODES[role]))
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.last_seq)
    )
    if seq is None:
        await get_conversation(session, conversation_id)  # NotFound if it does not exist
        raise Closed(f"{role} cannot write to conversation {conversation_id} in its current mode")
    message = Message(
        conversation_id=conversation_id,
        seq=seq,
        role=role,
        text=text,
        client_msg_id=client_msg_id,
        payload=payload,
    )
    session.add(message)
    await session.flush()
    return StoredMessage.of(message)


async def messages_since(
    session: AsyncSession, conversation_id: str, since_seq: int, limit: int = 500
) -> list[StoredMessage]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > since_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return [StoredMessage.of(m) for m in rows]
