"""A conversation's life: who owns it (its mode), the only moves between modes, and what the live
participants hear once a change is committed.

```
 started ─▶ bot ──handoff──▶ queued ──claimed──▶ assigned
             ▲ ▲               │ ▲                 │
             │ └─closed────────┘ └─released────────┤  (sign-out, deactivation),
             │   (back to bot)      lease_expired  │  a lapsed lease,
             │                      transferred    │  a transfer to a team
             ├──────closed (returned to the bot)───┤
   reopened  │                                     │
          closed ◀──────closed (resolved)──────────┘  (also from queued: a supervisor resolves)
```

Every mode change is `move()`: a conditional UPDATE from the mode the caller expects, checked by
row count, with its event row (N7). Whoever changes a mode does so inside a `Work`, which
collects the frames to publish and sends them only after the commit, so nobody hears of a change
the database does not have (N1).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.messages import StoredMessage, event
from bot.db.models import Conversation, Mode

# (from, to) -> the event kinds that may make that move. Nothing else changes a mode.
TRANSITIONS: dict[tuple[Mode | None, Mode], frozenset[str]] = {
    (None, Mode.BOT): frozenset({"started"}),
    (Mode.BOT, Mode.QUEUED): frozenset({"handoff"}),
    (Mode.QUEUED, Mode.ASSIGNED): frozenset({"claimed"}),
    (Mode.ASSIGNED, Mode.QUEUED): frozenset({"released", "lease_expired", "transferred"}),
    (Mode.QUEUED, Mode.BOT): frozenset({"closed"}),
    (Mode.ASSIGNED, Mode.BOT): frozenset({"closed"}),
    (Mode.QUEUED, Mode.CLOSED): frozenset({"closed"}),
    (Mode.ASSIGNED, Mode.CLOSED): frozenset({"closed"}),
    (Mode.CLOSED, Mode.BOT): frozenset({"reopened"}),
}
# Modes in which the conversation is in the queue or with a person: desks list it.
STAFFED = frozenset({Mode.QUEUED, Mode.ASSIGNED})


class IllegalMove(ValueError):
    """A move the graph does not allow: a bug in the caller, never a race."""


@dataclass
class Work:
    """One unit of work: its session, the time it happens at (the app's clock, read once when
    it begins), and what to tell people once it commits."""

    session: AsyncSession
    now: datetime
    frames: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    desk: list[dict[str, Any]] = field(default_factory=list)
    detached: list[tuple[str, int]] = field(default_factory=list)
    queue_changed: bool = False

    def publish(self, conversation_id: str, body: dict[str, Any]) -> None:
        """To everyone watching the conversation, after the commit."""
        self.frames.append((conversation_id, body))

    def said(self, conversation_id: str, message: StoredMessage) -> None:
        self.publish(conversation_id, message.as_dict())

    def tell_desks(self, body: dict[str, Any]) -> None:
        """To every desk socket, after the commit."""
        self.desk.append(body)

    def detach(self, conversation_id: str, agent_id: int) -> None:
        """The agent no longer holds the conversation: after the commit, their desk sockets on
        every replica stop following it."""
        self.detached.append((conversation_id, agent_id))


def mode_frame(mode: str, **details: Any) -> dict[str, Any]:
    """The live frame saying who owns the conversation now (details: reason, priority, agent)."""
    return {"type": "mode", "mode": str(mode), **details}


async def start(session: AsyncSession, *, language: str, customer_id: str | None) -> Conversation:
    """A new conversation, with the bot."""
    conversation = Conversation(
        id=str(uuid.uuid4()), mode=Mode.BOT, language=language, customer_id=customer_id
    )
    session.add(conversation)
    session.add(event(conversation.id, "started", "customer", to_mode=Mode.BOT))
    await session.flush()
    return conversation


async def move(
    work: Work,
    conversation_id: str,
    from_mode: Mode,
    to_mode: Mode,
    kind: str,
    actor: str,
    *,
    frame: dict[str, Any] | None = None,
    policy_version: int | None = None,
    **data: Any,
) -> bool:
    """Move the conversation if it is still in `from_mode`; False if it no longer is (a race
    the caller lost). The event row and the mode frame (with `frame`'s details) come with it."""
    if kind not in TRANSITIONS.get((from_mode, to_mode), ()):
        raise IllegalMove(f"{kind!r} cannot move a conversation from {from_mode} to {to_mode}")
    moved = await work.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.mode == from_mode)
        .values(mode=to_mode)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    work.session.add(
        event(
            conversation_id,
            kind,
            actor,
            from_mode,
            to_mode,
            policy_version=policy_version,
            **data,
        )
    )
    work.publish(conversation_id, mode_frame(to_mode, **(frame or {})))
    work.queue_changed |= from_mode in STAFFED or to_mode in STAFFED
    return True
