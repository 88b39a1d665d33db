"""Desk views for remedies: grants within authority, approval requests, the audit list."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.desk import remedies
from bot.desk.api.auth import current_user, supervisor
from bot.desk.queue import owned_ticket
from bot.errors import BadRequest
from bot.services import SERVICES
from bot.web.http import json_body, path_id


def _remedy(data: Any) -> remedies.Request:
    if not isinstance(data, dict):
        raise BadRequest("invalid_remedy", "expected a JSON object")
    kind, order_id = data.get("kind"), data.get("order_id")
    amount, reason = data.get("amount_cents"), data.get("reason")
    if not isinstance(kind, str) or not isinstance(order_id, str) or not isinstance(reason, str):
        raise BadRequest("invalid_remedy", "kind, order_id and reason must be strings")
    # left out (or null), the domain says whether it may be: a replacement is valued by the server
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        raise BadRequest("invalid_remedy", "amount_cents must be a whole number of cents")
    return remedies.Request(kind, order_id, amount, reason)


async def give(request: web.Request) -> web.Response:
    """Within authority it is done at once; above it the answer is 403 above_authority, with
    what is left, and the page offers an approval request instead."""
    remedy = _remedy(await json_body(request))
    services = request.app[SERVICES]
    conversation_id, user = request.match_info["id"], current_user(request)
    async with services.work() as work:
        await owned_ticket(work.session, conversation_id, user)
        made, applied = await remedies.grant(
            work.session, conversation_id, user, remedy, services.policy, work.now
        )
        if made.flagged_for_audit:
            work.tell_desks({"type": "audit", "grant_id": made.id})
    return web.json_response(remedies.grant_body(made) | {"applied": applied}, status=201)


async def ask(request: web.Request) -> web.Response:
    remedy = _remedy(await json_body(request))
    services = request.app[SERVICES]
    conversation_id, user = request.match_info["id"], current_user(request)
    async with services.work() as work:
        await owned_ticket(work.session, conversation_id, user)
        approval = await remedies.request_approval(
            work.session, conversation_id, user, remedy, services.policy
        )
        work.tell_desks({"type": "approvals"})
    return web.json_response({"approval_id": approval.id, "status": approval.status}, status=201)


async def pending(request: web.Request) -> web.Response:
    """Supervisors: every pending request. Others: their own, to see the answer."""
    user = current_user(request)
    async with request.app[SERVICES].sessions() as session:
        found = await remedies.approvals_for(session, user)
    rows = [
        {
            "id": a.id,
            "conversation_id": a.conversation_id,
            "order_id": a.order_id,
            "kind": a.kind,
            "amount_cents": a.amount_cents,
            "reason": a.reason,
            "requested_by": name,
            "status": a.status,
            "created_at": a.created_at.isoformat(),
        }
        for a, name in found
    ]
    return web.json_response({"approvals": rows})


async def decide(request: web.Request) -> web.Response:
    user = supervisor(request)
    data = await json_body(request)
    approve = data.get("approve") if isinstance(data, dict) else None
    if not isinstance(approve, bool):
        raise BadRequest("invalid_decision", "approve must be true or false")
    services = request.app[SERVICES]
    async with services.work() as work:
        approval, made = await remedies.decide(
            work.session, path_id(request), user, approve, services.policy, work.now
        )
        work.tell_desks(
            {
                "type": "approvals",
                "decided": approval.id,
                "approved": approve,
                "conversation_id": approval.conversation_id,
            }
        )
    body: dict[str, Any] = {"approval_id": approval.id, "status": approval.status}
    if made is not None:
        body["grant_id"] = made.id
    return web.json_response(body)


async def audit(request: web.Request) -> web.Response:
    supervisor(request)
    async with request.app[SERVICES].sessions() as session:
        flagged = await remedies.flagged(session)
    rows = [remedies.grant_body(g) | {"actor": name} for g, name in flagged]
    # the page states the threshold it lists grants from, as policy.yml sets it
    threshold = request.app[SERVICES].policy.audit_threshold_cents
    return web.json_response({"flagged": rows, "threshold_cents": threshold})
