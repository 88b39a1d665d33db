"""The agent desk's API: sign-in, the queue, claiming, replying, returning and resolving.

POST /desk/api/login                          {username, password} -> session cookie + csrf_token
POST /desk/api/logout
GET  /desk/api/me
GET  /desk/api/queue                          waiting tickets, by priority then waiting time
POST /desk/api/tickets/{id}/claim
POST /desk/api/tickets/{id}/heartbeat         keeps the claim's lease while the agent is there
GET  /desk/api/conversations/{id}             brief and transcript (its agent or a supervisor)
POST /desk/api/conversations/{id}/messages    {text}
POST /desk/api/conversations/{id}/return      {outcome}: back to the bot, which is told
POST /desk/api/conversations/{id}/resolve     {wrap_up}: closes and asks the satisfaction question
POST /desk/api/conversations/{id}/grants      {kind, order_id, amount_cents, reason}, in authority
POST /desk/api/conversations/{id}/approvals   the same, above authority: asks a supervisor
GET  /desk/api/approvals                      pending approval requests (supervisors)
POST /desk/api/approvals/{id}/decide          {approve: true|false}, one step (supervisors)
GET  /desk/api/audit                          grants at or above the audit threshold (supervisors)
GET  /desk/ws                                 live queue changes; messages of watched conversations

Every route but login needs the session cookie; every state-changing one also the X-CSRF-Token
header from login (the cookie is SameSite=Strict as well).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from sqlalchemy import select

from bot import empowerment, staff
from bot.channel import CHAT, BadRequest, _json_body, _origin_allowed
from bot.chat import DESK_FEED
from bot.conversations import get_conversation, messages_since
from bot.db.models import Approval, DeskSession, Grant, Ticket, User
from bot.queue import (
    Forbidden,
    QueueError,
    claim,
    owned_ticket,
    renew_lease,
    reply,
    resolve,
    return_to_bot,
    waiting,
)
from bot.rasa_auth import authorization

COOKIE = "desk_session"
USER = web.RequestKey("user", User)
DESK_SESSION = web.RequestKey("desk_session", DeskSession)
PUBLIC = {"/desk/api/login"}


def lease(request: web.Request) -> timedelta:
    return timedelta(seconds=request.app[CHAT].settings.lease_seconds)


@web.middleware
async def desk_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if not request.path.startswith("/desk/") or request.path in PUBLIC:
        response: web.StreamResponse = await handler(request)
        return response
    token = request.cookies.get(COOKIE)
    found = None
    if token:
        async with request.app[CHAT].sessions() as session:
            found = await staff.session_user(session, token)
    if found is None:
        return web.json_response({"error": "unauthorized", "message": "sign in first"}, status=401)
    user, desk_session = found
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and request.headers.get("X-CSRF-Token") != desk_session.csrf_token
    ):
        return web.json_response(
            {"error": "csrf", "message": "missing or wrong X-CSRF-Token header"}, status=403
        )
    request[USER], request[DESK_SESSION] = user, desk_session
    try:
        response = await handler(request)
    except Forbidden as error:
        return web.json_response({"error": "forbidden", "message": str(error)}, status=403)
    except QueueError as error:
        return web.json_response({"error": "conflict", "message": str(error)}, status=409)
    return response


def _user(request: web.Request) -> User:
    return request[USER]


def _me(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "max_concurrent": user.max_concurrent,
    }


async def login(request: web.Request) -> web.Response:
    data = await _json_body(request)
    username, password = (
        (data.get("username"), data.get("password")) if isinstance(data, dict) else (None, None)
    )
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("invalid_login", "username and password must be strings")
    address = request.remote or "unknown"
    chat = request.app[CHAT]
    try:
        async with chat.sessions.begin() as session:
            signed_in = await staff.sign_in(session, username, password, address)
    except staff.Throttled:
        return web.json_response(
            {"error": "throttled", "message": "too many failed sign-ins; try again in 15 minutes"},
            status=429,
        )
    if signed_in is None:
        return web.json_response(
            {"error": "invalid_login", "message": "wrong username or password"}, status=401
        )
    user, token, desk_session = signed_in
    response = web.json_response({"user": _me(user), "csrf_token": desk_session.csrf_token})
    secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/desk",
        max_age=int(staff.SESSION_LIFETIME.total_seconds()),
    )
    return response


async def logout(request: web.Request) -> web.Response:
    async with request.app[CHAT].sessions.begin() as session:
        await staff.sign_out(session, request.cookies[COOKIE])
    response = web.json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/desk")
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(
        {"user": _me(_user(request)), "csrf_token": request[DESK_SESSION].csrf_token}
    )


async def queue(request: web.Request) -> web.Response:
    async with request.app[CHAT].sessions() as session:
        tickets = await waiting(session)
    return web.json_response({"waiting": [t.as_dict() for t in tickets]})


def _ticket_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


async def claim_ticket(request: web.Request) -> web.Response:
    chat = request.app[CHAT]
    async with chat.sessions.begin() as session:
        ticket = await claim(session, _ticket_id(request), _user(request), lease(request))
    await chat.hub.publish(DESK_FEED, {"type": "queue"})
    await chat.hub.publish(
        ticket.conversation_id,
        {"type": "mode", "mode": "assigned", "agent": _user(request).display_name},
    )
    return web.json_response({"ticket_id": ticket.id, "conversation_id": ticket.conversation_id})


async def heartbeat(request: web.Request) -> web.Response:
    async with request.app[CHAT].sessions.begin() as session:
        ticket = await session.get(Ticket, _ticket_id(request))
        if ticket is None or ticket.agent_id != _user(request).id:
            raise Forbidden("this ticket is not yours")
        await renew_lease(session, ticket, lease(request))
    return web.json_response({"renewed": True})


async def conversation(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    chat = request.app[CHAT]
    async with chat.sessions() as session:
        ticket = await owned_ticket(session, conversation_id, _user(request))
        found = await get_conversation(session, conversation_id)
        transcript = await messages_since(session, conversation_id, 0, limit=5000)
        customer = await empowerment.customer_record(session, found.customer_id)
        authority = await empowerment.remaining_authority(
            session, _user(request), conversation_id, chat.policy
        )
    return web.json_response(
        {
            "conversation_id": conversation_id,
            "customer": customer,
            "authority": authority,
            "mode": found.mode,
            "language": found.language,
            "ticket": {"id": ticket.id, "status": ticket.status, "reason": ticket.reason,
                       "priority": ticket.priority},
            "brief": ticket.brief,
            "transcript": [m.as_dict() for m in transcript],
        }
    )  # fmt: skip


async def agent_message(request: web.Request) -> web.Response:
    data = await _json_body(request)
    text = data.get("text") if isinstance(data, dict) else None
    chat = request.app[CHAT]
    if not isinstance(text, str) or not text.strip() or len(text) > chat.settings.max_message_chars:
        raise BadRequest(
            "invalid_text", f"text must be 1-{chat.settings.max_message_chars} characters"
        )
    conversation_id = request.match_info["id"]
    async with chat.sessions.begin() as session:
        stored = await reply(session, conversation_id, _user(request), text, lease(request))
    await chat.hub.publish(conversation_id, stored.as_dict())
    return web.json_response({"id": stored.id, "seq": stored.seq}, status=201)


async def return_conversation(request: web.Request) -> web.Response:
    data = await _json_body(request) if request.can_read_body else {}
    outcome = data.get("outcome", "") if isinstance(data, dict) else ""
    if not isinstance(outcome, str) or len(outcome) > 32:
        raise BadRequest("invalid_outcome", "outcome must be a short code such as 'credited'")
    chat = request.app[CHAT]
    conversation_id = request.match_info["id"]
    async with chat.sessions() as session:
        await owned_ticket(session, conversation_id, _user(request))
    # Rasa first: if the bot cannot be resumed, the conversation stays with the person.
    events = [
        {"event": "resume"},
        {"event": "slot", "name": "handoff_reason", "value": None},
        {"event": "slot", "name": "gate", "value": None},
    ]
    try:
        async with chat.rasa.post(
            f"/conversations/{conversation_id}/tracker/events",
            json=events,
            headers=authorization(chat.settings.rasa_jwt_secret),
            timeout=aiohttp.ClientTimeout(total=chat.settings.rasa_timeout_seconds),
        ) as response:
            if response.status != 200:
                raise aiohttp.ClientError(f"Rasa answered HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError):
        return web.json_response(
            {
                "error": "bot_unavailable",
                "message": "the bot cannot take the conversation back now",
            },
            status=502,
        )
    async with chat.sessions.begin() as session:
        await return_to_bot(session, conversation_id, _user(request), outcome or "returned_to_bot")
    await chat.hub.publish(conversation_id, {"type": "mode", "mode": "bot"})
    return web.json_response({"mode": "bot"})


async def resolve_conversation(request: web.Request) -> web.Response:
    data = await _json_body(request)
    wrap_up = data.get("wrap_up") if isinstance(data, dict) else None
    if not isinstance(wrap_up, str):
        raise BadRequest("invalid_wrap_up", "wrap_up must be a string")
    chat = request.app[CHAT]
    conversation_id = request.match_info["id"]
    question = chat.policy.messages["satisfaction_question"]
    async with chat.sessions.begin() as session:
        asked = await resolve(session, conversation_id, _user(request), wrap_up, question)
    await chat.hub.publish(conversation_id, asked.as_dict())
    await chat.hub.publish(conversation_id, {"type": "mode", "mode": "closed"})
    return web.json_response({"mode": "closed"})


def _remedy(data: Any) -> empowerment.Request:
    if not isinstance(data, dict):
        raise BadRequest("invalid_remedy", "expected a JSON object")
    kind, order_id = data.get("kind"), data.get("order_id")
    amount, reason = data.get("amount_cents"), data.get("reason")
    if not isinstance(kind, str) or not isinstance(order_id, str) or not isinstance(reason, str):
        raise BadRequest("invalid_remedy", "kind, order_id and reason must be strings")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise BadRequest("invalid_remedy", "amount_cents must be a whole number of cents")
    return empowerment.Request(kind, order_id, amount, reason)


def _supervisor(request: web.Request) -> User:
    user = _user(request)
    if user.role != "supervisor":
        raise Forbidden("only supervisors may do this")
    return user


def _grant_body(grant: Grant, applied: dict[str, Any]) -> dict[str, Any]:
    return {
        "grant_id": grant.id,
        "kind": grant.kind,
        "amount_cents": grant.amount_cents,
        "order_id": grant.order_id,
        "flagged_for_audit": grant.flagged_for_audit,
        "policy_version": grant.policy_version,
        "applied": applied,
    }


async def give_remedy(request: web.Request) -> web.Response:
    remedy = _remedy(await _json_body(request))
    chat, conversation_id = request.app[CHAT], request.match_info["id"]
    try:
        async with chat.sessions.begin() as session:
            await owned_ticket(session, conversation_id, _user(request))
            made, applied = await empowerment.grant(
                session, conversation_id, _user(request), remedy, chat.policy
            )
    except empowerment.AboveAuthority as error:
        return web.json_response(
            {"error": "above_authority", "message": str(error), "remaining": error.remaining},
            status=403,
        )
    return web.json_response(_grant_body(made, applied), status=201)


async def ask_approval(request: web.Request) -> web.Response:
    remedy = _remedy(await _json_body(request))
    chat, conversation_id = request.app[CHAT], request.match_info["id"]
    async with chat.sessions.begin() as session:
        await owned_ticket(session, conversation_id, _user(request))
        approval = await empowerment.request_approval(
            session, conversation_id, _user(request), remedy, chat.policy
        )
    await chat.hub.publish(DESK_FEED, {"type": "approvals"})
    return web.json_response({"approval_id": approval.id, "status": approval.status}, status=201)


async def approvals(request: web.Request) -> web.Response:
    _supervisor(request)
    async with request.app[CHAT].sessions() as session:
        pending = await session.scalars(
            select(Approval).where(Approval.status == "pending").order_by(Approval.created_at)
        )
        rows = [
            {"id": a.id, "conversation_id": a.conversation_id, "order_id": a.order_id,
             "kind": a.kind, "amount_cents": a.amount_cents, "reason": a.reason,
             "requested_by": a.requested_by, "created_at": a.created_at.isoformat()}
            for a in pending
        ]  # fmt: skip
    return web.json_response({"pending": rows})


async def decide_approval(request: web.Request) -> web.Response:
    supervisor = _supervisor(request)
    data = await _json_body(request)
    approve = data.get("approve") if isinstance(data, dict) else None
    if not isinstance(approve, bool):
        raise BadRequest("invalid_decision", "approve must be true or false")
    chat = request.app[CHAT]
    async with chat.sessions.begin() as session:
        approval, made = await empowerment.decide(
            session, _ticket_id(request), supervisor, approve, chat.policy
        )
    await chat.hub.publish(DESK_FEED, {"type": "approvals"})
    body: dict[str, Any] = {"approval_id": approval.id, "status": approval.status}
    if made is not None:
        body["grant_id"] = made.id
    return web.json_response(body)


async def audit(request: web.Request) -> web.Response:
    _supervisor(request)
    async with request.app[CHAT].sessions() as session:
        flagged = await session.scalars(
            select(Grant).where(Grant.flagged_for_audit).order_by(Grant.created_at.desc())
        )
        rows = [
            {"grant_id": g.id, "conversation_id": g.conversation_id, "order_id": g.order_id,
             "kind": g.kind, "amount_cents": g.amount_cents, "reason": g.reason,
             "actor_id": g.actor_id, "actor_role": g.actor_role,
             "policy_version": g.policy_version, "created_at": g.created_at.isoformat()}
            for g in flagged
        ]  # fmt: skip
    return web.json_response({"flagged": rows})


async def desk_socket(request: web.Request) -> web.StreamResponse:
    if not _origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    chat = request.app[CHAT]
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=16 * 1024)
    await socket.prepare(request)
    chat.hub.join(DESK_FEED, socket)
    watching: set[str] = set()
    try:
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(frame.data)
                conversation_id = str(data["watch"])
            except (ValueError, KeyError, TypeError):
                await socket.send_json({"type": "error", "error": "invalid_frame"})
                continue
            try:
                async with chat.sessions() as session:
                    await owned_ticket(session, conversation_id, _user(request))
            except (Forbidden, QueueError) as error:
                await socket.send_json(
                    {"type": "error", "error": "forbidden", "message": str(error)}
                )
                continue
            chat.hub.join(conversation_id, socket)
            watching.add(conversation_id)
            await socket.send_json({"type": "watching", "conversation_id": conversation_id})
    finally:
        chat.hub.leave(DESK_FEED, socket)
        for conversation_id in watching:
            chat.hub.leave(conversation_id, socket)
    return socket


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/desk/api/login", login)
    app.router.add_post("/desk/api/logout", logout)
    app.router.add_get("/desk/api/me", me)
    app.router.add_get("/desk/api/queue", queue)
    app.router.add_post("/desk/api/tickets/{id}/claim", claim_ticket)
    app.router.add_post("/desk/api/tickets/{id}/heartbeat", heartbeat)
    app.router.add_get("/desk/api/conversations/{id}", conversation)
    app.router.add_post("/desk/api/conversations/{id}/messages", agent_message)
    app.router.add_post("/desk/api/conversations/{id}/return", return_conversation)
    app.router.add_post("/desk/api/conversations/{id}/resolve", resolve_conversation)
    app.router.add_post("/desk/api/conversations/{id}/grants", give_remedy)
    app.router.add_post("/desk/api/conversations/{id}/approvals", ask_approval)
    app.router.add_get("/desk/api/approvals", approvals)
    app.router.add_post("/desk/api/approvals/{id}/decide", decide_approval)
    app.router.add_get("/desk/api/audit", audit)
    app.router.add_get("/desk/ws", desk_socket)
