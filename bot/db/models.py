"""The service's tables. Schema changes go through Alembic (bot/migrations)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware datetimes only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
    }


class Mode(enum.StrEnum):
    """Who owns the conversation. Every change is a conditional UPDATE plus an event row."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class StaffRole(enum.StrEnum):
    AGENT = "agent"
    SENIOR = "senior"
    SUPERVISOR = "supervisor"
    DESIGNER = "designer"


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class ApprovalStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class DeliveryState(enum.StrEnum):
    """Where a grant stands with the shop's systems (bot/shop/deliveries.py)."""

    PENDING = "pending"  # committed with its grant, not yet confirmed by the shop
    DONE = "done"  # the shop executed it (the built-in shop: in the grant's own transaction)
    FAILED = "failed"  # refused by the shop, or given up on: a supervisor retries or cancels
    CANCELLED = "cancelled"  # a supervisor decided it will not be delivered


class CallbackStatus(enum.StrEnum):
    OPEN = "open"
    REPLACED = "replaced"  # the customer left newer details
    DONE = "done"  # its ticket closed


class LabelStatus(enum.StrEnum):
    WRITTEN = "written"
    UNDONE = "undone"
    PROMOTED = "promoted"


class TrainingStatus(enum.StrEnum):
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"
    PROMOTED = "promoted"


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), default=Mode.BOT)
    language: Mapped[str] = mapped_column(String(8), default="en")
    customer_id: Mapped[str | None] = mapped_column(String(64))
    # The last seq handed out; incremented in the same transaction as each message insert, so
    # seqs are gapless (a rolled-back insert rolls back its increment too).
    last_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "client_msg_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int]
    role: Mapped[str] = mapped_column(String(16))
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    # Buttons and custom payloads from the bot, exactly as Rasa sent them.
    payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # At most one open ticket per conversation (N5), enforced by the database.
        Index(
            "one_open_ticket_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING)
    reason: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    brief: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    # A claimed ticket whose agent goes silent past this returns to the queue.
    lease_expires_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    wrap_up: Mapped[str | None] = mapped_column(String(32))
    # Set when transferred to a team: a routing hint shown in the queue (anyone may still claim,
    # so a waiting ticket is never invisible to every agent, N5).
    team: Mapped[str | None] = mapped_column(String(32))
    escalated_at: Mapped[datetime | None]
    escalation_note: Mapped[str | None] = mapped_column(String(500))


class User(Base):
    """A person on the desk: agent, senior, supervisor or designer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    max_concurrent: Mapped[int] = mapped_column(default=3)
    # A routing label (policy.yml desk.teams): transfers can send a conversation to a team.
    team: Mapped[str | None] = mapped_column(String(32))
    # The languages this person speaks with customers, comma-separated codes ("en,vi"): the
    # queue offers conversations in them first.
    languages: Mapped[str] = mapped_column(String(64), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def spoken(self) -> tuple[str, ...]:
        return tuple(code for code in self.languages.split(",") if code)


class DeskSession(Base):
    """A signed-in desk user. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "desk_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class LoginAttempt(Base):
    """Failed sign-ins, counted per username and per address to throttle guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Customer(Base):
    """The shop's customer record (demo data ships with the project: python -m bot seed-demo)."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    member_since: Mapped[datetime]
    pets: Mapped[str | None] = mapped_column(String(200))
    credit_balance_cents: Mapped[int] = mapped_column(default=0)
    # With the shop's own backend (SHOP_CONNECTOR=http) these rows are a copy of its record, made
    # when it last answered: shown, marked stale, while it does not (bot/shop/records.py).
    synced_at: Mapped[datetime | None]


class Order(Base):
    __tablename__ = "orders"
    # An order's replacements are orders X-R1, X-R2, ... (bot/desk/replacements.py): their primary
    # key settles two people replacing one order at once; this index finds them.
    __table_args__ = (Index("replacements_of_order", "replaces_order_id"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(32))
    items: Mapped[dict[str, Any]]  # {"lines": [{"name", "qty", "price_cents"}]}
    total_cents: Mapped[int]
    shipping_cents: Mapped[int] = mapped_column(default=0)
    refunded_cents: Mapped[int] = mapped_column(default=0)
    fees_waived_cents: Mapped[int] = mapped_column(default=0)
    replaces_order_id: Mapped[str | None] = mapped_column(String(16))


class Subscription(Base):
    """An Autoship: one product delivered every few weeks."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    product: Mapped[str] = mapped_column(String(200))
    every_weeks: Mapped[int]
    next_delivery: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    price_cents: Mapped[int]


class Grant(Base):
    """Append-only ledger of every remedy given: who, what, how much, for which order, and under
    which policy version. Never updated or deleted."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    policy_version: Mapped[int]
    flagged_for_audit: Mapped[bool] = mapped_column(default=False)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Delivery(Base):
    """The outbox: a grant on its way to the shop's systems, written in the grant's transaction
    and delivered by a worker, exactly once per grant (its id is the idempotency key)."""

    __tablename__ = "deliveries"

    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # a worker delivering it holds it until then; past it (the worker died), another takes it
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    reference: Mapped[str | None] = mapped_column(String(64))  # the shop's id of what it did
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class Approval(Base):
    """A grant above the agent's authority, waiting for a supervisor's yes or no."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=ApprovalStatus.PENDING)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    policy_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    """A private note on a conversation: agents and supervisors see it, the customer never does."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackRequest(Base):
    """A customer who could not reach a person now and left a way to be contacted."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.OPEN)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Satisfaction(Base):
    """The customer's one-question score, once per conversation (the first answer stands)."""

    __tablename__ = "satisfaction"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    score: Mapped[int]
    # "agent" if a person took part in the conversation, else "bot"
    handled_by: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AgentPresence(Base):
    """Who is on the desk now: each desk socket refreshes its user's row every few seconds."""

    __tablename__ = "agent_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Label(Base):
    """Messages a conversation designer labelled, and exactly what that wrote where (to undo)."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # intent | new_topic | out_of_scope
    intent: Mapped[str] = mapped_column(String(100))
    # {"training": [...], "heldout": [...], "skipped": [...], "files": {...}}
    record: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=LabelStatus.WRITTEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelledMessage(Base):
    """An inbox message that has been labelled, so it leaves the inbox."""

    __tablename__ = "labelled_messages"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"), index=True)


class TrainingRun(Base):
    """Validate, train a candidate, evaluate it against the serving model; promote on request."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=TrainingStatus.RUNNING)
    step: Mapped[str] = mapped_column(String(100), default="starting")
    progress: Mapped[int] = mapped_column(default=0)  # percent
    # True while running, NULL after: the unique index lets one run at a time, on every replica.
    active: Mapped[bool | None] = mapped_column(unique=True, default=True)
    error: Mapped[str | None] = mapped_column(Text)
    candidate: Mapped[str | None] = mapped_column(String(300))
    current: Mapped[str | None] = mapped_column(String(300))
    report: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    promoted_at: Mapped[datetime | None]


class Event(Base):
    """Append-only audit of every mode or ticket transition (N7)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    from_mode: Mapped[str | None] = mapped_column(String(16))
    to_mode: Mapped[str | None] = mapped_column(String(16))
    policy_version: Mapped[int | None]
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
