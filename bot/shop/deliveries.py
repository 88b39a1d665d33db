"""Grants on their way to the shop's backend: the outbox and its worker (SHOP_CONNECTOR=http).

A grant and its delivery row are written in one transaction (bot/desk/remedies.py). This worker
takes due deliveries, each under a claim that lapses (so a delivery whose worker died is taken
again, by this replica after a restart or by another), and posts them to the shop with the
grant's idempotency key: the shop executes a key once, however often it is delivered. The
outcome:
- done: the shop confirmed it; only now is the customer told (outcome_slots counts done grants);
- refused (409/422): failed at once, for a supervisor to retry or cancel;
- no answer, 5xx, 429: tried again after an exponential backoff with jitter, up to
  SHOP_MAX_ATTEMPTS attempts, then failed.
Every change of state is told to the desks, which show it live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.lifecycle import Work
from bot.db.models import Delivery, DeliveryState, Grant, User, utcnow
from bot.errors import Conflict
from bot.services import Services
from bot.shop import contract
from bot.shop.http import HttpShop, ShopRefused, ShopUnavailable

log = logging.getLogger(__name__)
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_MOST_SECONDS = 300.0
POLL_SECONDS = 1.0  # how often due retries are looked for (a new grant wakes the worker at once)
BATCH = 20


def backoff(attempts: int, rng: random.Random) -> float:
    """Seconds before attempt `attempts` + 1: doubling from BACKOFF_FIRST_SECONDS up to
    BACKOFF_MOST_SECONDS, half of it fixed and half random ("equal jitter"), so deliveries that
    failed together do not all come back together."""
    ceiling = min(BACKOFF_MOST_SECONDS, BACKOFF_FIRST_SECONDS * 2.0 ** (attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Deliveries:
    def __init__(
        self, services: Services, shop: HttpShop, rng: random.Random | None = None
    ) -> None:
        self.services, self.shop = services, shop
        self.rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def claim(self) -> timedelta:
        """Longer than one delivery can take, so two workers never hold one delivery at once."""
        return timedelta(seconds=2 * self.shop.timeout + 5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """A grant was committed: deliver it now, not at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:
                log.exception("delivering grants to the shop failed")
                delivered = 0
            if not delivered:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_SECONDS):
                        await self._wake.wait()
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Claim the deliveries that are due and nobody holds, and deliver them; how many."""
        now = utcnow()
        free = or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now)
        due = and_(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_at <= now, free)
        async with self.services.sessions.begin() as session:
            candidates = list(
                await session.scalars(
                    select(Delivery.grant_id)
                    .where(due)
                    .order_by(Delivery.next_attempt_at)
                    .limit(BATCH)
                )
            )
            claimed = []
            for grant_id in candidates:  # each claimed by a conditional UPDATE: one worker wins
                won = await session.execute(
                    update(Delivery)
                    .where(Delivery.grant_id == grant_id, due)
                    .values(claimed_until=now + self.claim)
                )
                if won.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(grant_id)
        outcomes = await asyncio.gather(
            *(self._deliver(grant_id) for grant_id in claimed), return_exceptions=True
        )
        for grant_id, outcome in zip(claimed, outcomes, strict=True):
            if isinstance(outcome, Exception):  # its claim lapses, and it is tried again
                log.error("delivering grant %s failed", grant_id, exc_info=outcome)
        return len(claimed)

    async def _deliver(self, grant_id: int) -> None:
        async with self.services.sessions() as session:
            grant, tried, actor = (
                await session.execute(
                    select(Grant, Delivery.attempts, User.username)
                    .join(Delivery, Delivery.grant_id == Grant.id)
                    .join(User, User.id == Grant.actor_id)
                    .where(Grant.id == grant_id)
                )
            ).one()
        attempts = tried + 1
        body = contract.remedy_body(
            grant.id, grant.kind, grant.customer_id, grant.order_id, grant.amount_cents,
            grant.reason, grant.conversation_id, actor, grant.created_at.isoformat(),
        )  # fmt: skip
        changes: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
        try:
            confirmed = await self.shop.execute(body)
        except ShopRefused as error:
            why = f"refused by the shop: {error}"
            changes |= {"state": DeliveryState.FAILED, "last_error": why[:500]}
        except ShopUnavailable as error:
            if attempts >= self.services.settings.shop_max_attempts:
                why = f"gave up after {attempts} attempts: {error}"
                changes |= {"state": DeliveryState.FAILED, "last_error": why[:500]}
            else:
                wait = timedelta(seconds=backoff(attempts, self.rng))
                changes |= {"last_error": str(error)[:500], "next_attempt_at": utcnow() + wait}
        else:
            changes |= {
                "state": DeliveryState.DONE,
                "reference": str(confirmed.get("reference") or "")[:64] or None,
                "result": {k: v for k, v in confirmed.items() if k != "status"},
                "finished_at": utcnow(),
                "last_error": None,
            }
        outcome = str(changes.get("state", "retry"))
        self.services.metrics.deliveries.labels(outcome).inc()
        async with self.services.work() as work:
            await work.session.execute(
                update(Delivery)
                .where(Delivery.grant_id == grant_id, Delivery.state == DeliveryState.PENDING)
                .values(changes)
            )
            if "state" in changes:
                work.tell_desks(_frame(grant, str(changes["state"])))
                if changes["state"] == DeliveryState.FAILED:
                    log.warning(
                        "grant %s not delivered: %s",
                        grant_id,
                        changes["last_error"],
                        extra={"conversation_id": grant.conversation_id, "grant_id": grant_id},
                    )


def _frame(grant: Grant, state: str) -> dict[str, Any]:
    return {
        "type": "delivery",
        "grant_id": grant.id,
        "state": state,
        "conversation_id": grant.conversation_id,
    }


async def retry(work: Work, grant_id: int) -> None:
    """A supervisor sends a failed grant again: its attempts start over."""
    await _decide(work, grant_id, {"state": DeliveryState.PENDING, "attempts": 0,
                                   "next_attempt_at": work.now, "claimed_until": None})  # fmt: skip


async def cancel(work: Work, grant_id: int) -> None:
    """A supervisor decides a failed grant will not be delivered (given another way, say)."""
    await _decide(work, grant_id, {"state": DeliveryState.CANCELLED, "finished_at": work.now})


async def _decide(work: Work, grant_id: int, changes: dict[str, Any]) -> None:
    moved = await work.session.execute(
        update(Delivery)
        .where(Delivery.grant_id == grant_id, Delivery.state == DeliveryState.FAILED)
        .values(changes)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("only a grant whose delivery failed can be retried or cancelled")
    grant = await work.session.get(Grant, grant_id)
    assert grant is not None  # its delivery row points at it
    work.tell_desks(_frame(grant, str(changes["state"])))


async def undelivered(session: AsyncSession) -> list[tuple[Grant, Delivery, str]]:
    """Failed deliveries and pending ones, oldest first, with the granting person's name."""
    rows = await session.execute(
        select(Grant, Delivery, User.display_name)
        .join(Delivery, Delivery.grant_id == Grant.id)
        .join(User, User.id == Grant.actor_id)
        .where(Delivery.state.in_((DeliveryState.FAILED, DeliveryState.PENDING)))
        .order_by(Delivery.created_at)
        .limit(500)
    )
    return [(g, d, name) for g, d, name in rows]
