"""Desk views for remedies: grants within authority, approval requests, the audit list."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.db.models import Delivery
from bot.desk import remedies
from bot.desk.api.auth import current_user, supervisor
from bot.desk.queue import owned_ticket
from bot.errors import BadRequest
from bot.services import SERVICES
from bot.shop import deliveries
from bot.shop.connector import SHOP
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
    """Within authority it is done at once (with the shop's own backend: sent to it at once, and
    pending until it confirms); above it the answer is 403 above_authority, with what is left,
    and the page offers an approval request instead."""
    remedy = _remedy(await json_body(request))
    services, shop = request.app[SERVICES], request.app[SHOP]
    conversation_id, user = request.match_info["id"], current_user(request)
    await shop.records.refresh_conversation(conversation_id)
    async with services.work() as work:
        await owned_ticket(work.session, conversation_id, user)
        made, applied = await remedies.grant(
            work.session,
            conversation_id,
            user,
            remedy,
            services.policy,
            work.now,
            deliver_later=not shop.applies_in_transaction,
        )
        if made.flagged_for_audit:
            work.tell_desks({"type": "audit", "grant_id": made.id})
        delivery = await work.session.get(Delivery, made.id)
    shop.granted()
    body = remedies.grant_body(made, delivery) | {"applied": applied}
    return web.json_response(body, status=201)


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
    services, shop = request.app[SERVICES], request.app[SHOP]
    async with services.sessions() as session:
        asked = await remedies.conversation_of_approval(session, path_id(request))
    if asked is not None:
        await shop.records.refresh_conversation(asked)
    async with services.work() as work:
        approval, made = await remedies.decide(
            work.session,
            path_id(request),
            user,
            approve,
            services.policy,
            work.now,
            deliver_later=not shop.applies_in_transaction,
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
        shop.granted()
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


async def undelivered(request: web.Request) -> web.Response:
    """Supervisors: grants the shop's systems have not confirmed, failed ones first."""
    supervisor(request)
    async with request.app[SERVICES].sessions() as session:
        found = await deliveries.undelivered(session)
    rows = [remedies.grant_body(g, d) | {"actor": name} for g, d, name in found]
    rows.sort(key=lambda row: row["delivery"]["state"] != "failed")
    return web.json_response({"deliveries": rows})


async def retry_delivery(request: web.Request) -> web.Response:
    supervisor(request)
    shop = request.app[SHOP]
    async with request.app[SERVICES].work() as work:
        await deliveries.retry(work, path_id(request))
    shop.granted()
    return web.json_response({"grant_id": path_id(request), "state": "pending"})


async def cancel_delivery(request: web.Request) -> web.Response:
    supervisor(request)
    async with request.app[SERVICES].work() as work:
        await deliveries.cancel(work, path_id(request))
    return web.json_response({"grant_id": path_id(request), "state": "cancelled"})
