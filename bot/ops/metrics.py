"""Prometheus metrics for operators, at /metrics.

Two kinds:
- what this process did, counted as it happens (messages, answers and how long they took,
  handoffs, the bot's failures, open sockets): a scraper sums them over the replicas;
- how the desk stands, read from the database at each scrape (the queue and its longest wait),
  so every replica reports the same figures.

Counts are taken from what a unit of work committed (`committed`), never from work that may
still roll back. /metrics is not served unless METRICS_TOKEN is set, and then only to a scraper
that sends it as a bearer token: the public port shows nothing of it to anyone else.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Delivery, DeliveryState
from bot.desk import stats
from bot.errors import Unauthorized

# Seconds from a customer's message stored to the bot's answer stored: most take a fraction of a
# second; RASA_TIMEOUT_SECONDS (10 by default) bounds the rest.
ANSWER_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 20.0)


class Metrics:
    """One registry per application, so two apps in one process (tests) count apart."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.messages = Counter(
            "bot_messages",
            "Messages stored in conversations, by who wrote them (customer: in; the rest: out)",
            ["role"],
            registry=registry,
        )
        self.answer_seconds = Histogram(
            "bot_answer_seconds",
            "From a customer's message stored to the bot's answer stored, or its handoff",
            ["outcome"],
            buckets=ANSWER_BUCKETS,
            registry=registry,
        )
        self.handoffs = Counter(
            "bot_handoffs",
            "Conversations handed to a person, by reason",
            ["reason"],
            registry=registry,
        )
        self.bot_failures = Counter(
            "bot_rasa_failures",
            "Customer messages the bot could not answer (the customer goes to a person), by kind:"
            " timeout, busy (no turn at Rasa in time), error, no_answer, looping, actions_down",
            ["kind"],
            registry=registry,
        )
        self.sockets = Gauge(
            "bot_sockets_active",
            "Websockets open on this replica, by side",
            ["side"],
            registry=registry,
        )
        self.waiting = Gauge(
            "bot_queue_waiting", "Conversations waiting for a person", registry=registry
        )
        self.longest_wait = Gauge(
            "bot_queue_longest_wait_seconds",
            "How long the conversation waiting longest has waited",
            registry=registry,
        )
        self.assigned = Gauge(
            "bot_queue_assigned", "Conversations with a person", registry=registry
        )
        self.agents_online = Gauge("bot_agents_online", "Agents signed in", registry=registry)
        self.deliveries = Counter(
            "bot_grant_deliveries",
            "Attempts to deliver a grant to the shop's backend, by outcome: done, failed (refused,"
            " or given up on), retry",
            ["outcome"],
            registry=registry,
        )
        self.grants = Gauge(
            "bot_grants", "Grants by delivery state (pending, done, failed, cancelled)",
            ["state"], registry=registry,
        )  # fmt: skip
        self.outbox_lag = Gauge(
            "bot_grants_outbox_lag_seconds",
            "How long the oldest grant not yet confirmed by the shop has waited",
            registry=registry,
        )
        for side in ("customer", "desk"):
            self.sockets.labels(side)  # a series from the start, at 0

    def committed(self, frames: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Count what a unit of work published once it committed: its messages and handoffs (a
        mode frame to `queued` with a reason is a handoff; a return to the queue has none)."""
        for _, body in frames:
            kind = body.get("type")
            if kind == "message":
                self.messages.labels(str(body.get("role"))).inc()
            elif kind == "mode" and body.get("mode") == "queued" and "reason" in body:
                self.handoffs.labels(str(body["reason"])).inc()

    async def render(self, session: AsyncSession, now: datetime) -> web.Response:
        figures = await stats.live(session, now)
        self.waiting.set(figures["waiting"])
        self.assigned.set(figures["assigned"])
        self.longest_wait.set(figures["longest_wait_seconds"])
        self.agents_online.set(figures["agents_online"])
        by_state = dict(
            (
                await session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
            ).all()
        )
        for state in DeliveryState:
            self.grants.labels(str(state)).set(by_state.get(state, 0))
        oldest = await session.scalar(
            select(func.min(Delivery.created_at)).where(Delivery.state == DeliveryState.PENDING)
        )
        self.outbox_lag.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        body = generate_latest(self.registry)  # the text format every Prometheus reads
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def authorised(request: web.Request, token: str | None) -> None:
    """404 when metrics are off (no token set), 401 without the bearer token."""
    if token is None:
        raise web.HTTPNotFound()
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, f"Bearer {token}".encode()):
        raise Unauthorized("send METRICS_TOKEN as a bearer token")
