"""Two reads the desk pages need besides the desk API proper.

GET /desk/api/open          supervisors: every open conversation, waiting or held by anyone, so
                            the supervisor view can join any of them (not only the escalated ones
                            in /desk/api/mine or the waiting ones in /desk/api/queue)
GET /desk/api/desk-config   what the pages offer in their menus, from policy.yml: wrap-up codes,
                            teams, remedy kinds, the audit threshold, the claim lease
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from actions.handoff.policy import REMEDIES
from bot.db.models import Conversation, Customer, Ticket, TicketStatus, User
from bot.desk.api.auth import supervisor
from bot.desk.queue import QUEUE_ORDER
from bot.services import SERVICES


async def open_conversations(request: web.Request) -> web.Response:
    supervisor(request)
    async with request.app[SERVICES].sessions() as session:
        rows = await session.execute(
            select(Ticket, Conversation.language, User.display_name, Customer.name)
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .outerjoin(User, User.id == Ticket.agent_id)
            .outerjoin(Customer, Customer.id == Conversation.customer_id)
            .where(Ticket.status != TicketStatus.CLOSED)
            .order_by(*QUEUE_ORDER)
            .limit(500)
        )
        body = [
            {
                "ticket_id": ticket.id,
                "conversation_id": ticket.conversation_id,
                "status": ticket.status,
                "reason": ticket.reason,
                "priority": ticket.priority,
                "language": language,
                "agent": agent,
                "customer": customer,
                "waiting_since": ticket.created_at.isoformat(),
                "claimed_at": ticket.claimed_at.isoformat() if ticket.claimed_at else None,
                "escalated": ticket.escalated_at is not None,
                "escalation_note": ticket.escalation_note,
                "summary": str(ticket.brief.get("summary") or ""),
            }
            for ticket, language, agent, customer in rows
        ]
    return web.json_response({"open": body})


async def desk_config(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return web.json_response(
        {
            "wrap_ups": list(services.policy.desk.wrap_ups),
            "teams": list(services.policy.desk.teams),
            "remedies": list(REMEDIES),
            "audit_threshold_cents": services.policy.audit_threshold_cents,
            "lease_seconds": services.settings.lease_seconds,
            "max_message_chars": services.settings.max_message_chars,
        }
    )
