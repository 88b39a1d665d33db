"""The supervisor's live figures, read from the database (so every replica shows the same)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversations.survey import by_handler
from bot.db.models import Approval, ApprovalStatus, Grant, Ticket, TicketStatus, utcnow
from bot.desk.presence import online_agents


async def live(session: AsyncSession, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    oldest = await session.scalar(
        select(func.min(Ticket.created_at)).where(Ticket.status == TicketStatus.WAITING)
    )
    by_status = dict(
        (await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all()
    )
    reasons = dict(
        (
            await session.execute(
                select(Ticket.reason, func.count())
                .where(Ticket.created_at >= hour_ago)
                .group_by(Ticket.reason)
            )
        ).all()
    )
    return {
        "waiting": int(by_status.get(TicketStatus.WAITING, 0)),
        "assigned": int(by_status.get(TicketStatus.ASSIGNED, 0)),
        "longest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0,
        "agents_online": await online_agents(session, now),
        "escalated": int(
            await session.scalar(
                select(func.count()).where(
                    Ticket.status != TicketStatus.CLOSED, Ticket.escalated_at.is_not(None)
                )
            )
            or 0
        ),
        "handoffs_last_hour": {str(k): int(v) for k, v in reasons.items()},
        "satisfaction_last_day": await by_handler(session, day_ago),
        "pending_approvals": int(
            await session.scalar(
                select(func.count()).where(Approval.status == ApprovalStatus.PENDING)
            )
            or 0
        ),
        "flagged_grants_last_day": int(
            await session.scalar(
                select(func.count()).where(Grant.flagged_for_audit, Grant.created_at >= day_ago)
            )
            or 0
        ),
    }
