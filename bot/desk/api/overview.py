"""Two reads the desk pages need besides the desk API proper.

GET /desk/api/open          supervisors: every open conversation, waiting or held by anyone, so
                            the supervisor view can join any of them (not only the escalated ones
                            in /desk/api/mine or the waiting ones in /desk/api/queue)
GET /desk/api/desk-config   what the pages offer in their menus, from policy.yml: wrap-up codes,
                            teams, remedy kinds, signal labels, the audit threshold, the claim
                            lease
"""

from __future__ import annotations

from aiohttp import web

from actions.handoff.policy import REMEDIES, SIGNALS
from bot.desk.api.auth import supervisor
from bot.desk.queue import open_tickets
from bot.services import SERVICES


async def open_conversations(request: web.Request) -> web.Response:
    supervisor(request)
    async with request.app[SERVICES].sessions() as session:
        rows = await open_tickets(session)
    body = [
        {
            "ticket_id": row.ticket.id,
            "conversation_id": row.ticket.conversation_id,
            "status": row.ticket.status,
            "reason": row.ticket.reason,
            "priority": row.ticket.priority,
            "language": row.language,
            "agent": row.agent,
            "customer": row.customer,
            "waiting_since": row.ticket.created_at.isoformat(),
            "claimed_at": row.ticket.claimed_at.isoformat() if row.ticket.claimed_at else None,
            "escalated": row.ticket.escalated_at is not None,
            "escalation_note": row.ticket.escalation_note,
            "summary": str(row.ticket.brief.get("summary") or ""),
        }
        for row in rows
    ]
    return web.json_response({"open": body})


async def desk_config(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response(
        {
            "wrap_ups": list(services.policy.desk.wrap_ups),
            "teams": list(services.policy.desk.teams),
            "remedies": list(REMEDIES),
            "signal_labels": SIGNALS,
            "audit_threshold_cents": services.policy.audit_threshold_cents,
            "lease_seconds": services.settings.lease_seconds,
            "max_message_chars": services.settings.max_message_chars,
        }
    )
