"""The website channel: the customer's HTTP and websocket routes.

POST /api/conversations                      start {language, customer?}: id and token (and a
                                             signed-in customer's e-mail, for the call-back form)
POST /api/conversations/{id}/messages        send (Authorization: Bearer <token>)
GET  /api/conversations/{id}/messages        poll: ?since_seq=k returns what came after k, the
                                             mode and the conversation's language
GET  /api/conversations/{id}/queue           place in the queue and estimated wait
POST /api/conversations/{id}/back-to-bot     stop waiting for a person
POST /api/conversations/{id}/callback        {email?, phone?, name?, note?} when nobody can answer
POST /api/conversations/{id}/satisfaction    {score: 1-5}
GET  /api/conversations/{id}/ws              websocket (socket.py)

Views only parse and validate, and call the customer's units of work (intake.py); errors become
responses in one place (bot/web/http.py).
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.channel import identity, socket, tokens
from bot.channel.callbacks import parse_contact
from bot.channel.intake import INTAKE, parse_message
from bot.channel.limits import LIMITS, address, limit_callback, limit_message
from bot.channel.positions import POSITIONS
from bot.conversations.messages import get_conversation, messages_since
from bot.errors import BadRequest, Unauthorized
from bot.services import SERVICES
from bot.web.http import json_body, whole_number

LANGUAGE = re.compile(r"[a-z]{2}(-[A-Za-z]{2})?")


def authorise(request: web.Request, conversation_id: str, token: str | None) -> None:
    try:
        tokens.verify(request.app[SERVICES].settings.secret, conversation_id, token or "")
    except tokens.InvalidToken as error:
        raise Unauthorized(str(error), code="invalid_token") from None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _since(request: web.Request) -> int:
    since = whole_number(request.query.get("since_seq", "0"))
    if since is None:
        raise BadRequest("invalid_since_seq", "since_seq must be a whole number")
    return since


async def start(request: web.Request) -> web.Response:
    data = await json_body(request) if request.can_read_body else {}
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "expected a JSON object")
    language = data.get("language", "en")
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        raise BadRequest("invalid_language", "language must be a code like 'en' or 'en-GB'")
    if "customer_id" in data:
        raise BadRequest(
            "unsigned_customer",
            "customer_id is not accepted from a browser: send `customer`, the identity token "
            "the shop's site signs for a signed-in customer",
        )
    customer_id = None
    if data.get("customer") is not None:
        try:
            customer_id = identity.verify(
                request.app[SERVICES].settings.customer_identity_secret, str(data["customer"])
            )
        except identity.InvalidIdentity as error:
            raise BadRequest("invalid_customer", str(error)) from None
    request.app[LIMITS].check(request.app[LIMITS].starts, address(request))
    started = await request.app[INTAKE].start(language.split("-")[0], customer_id)
    return web.json_response(
        {
            "conversation_id": started.conversation_id,
            "token": started.token,
            "expires": started.expires,
        }
        | ({"contact": started.contact} if started.contact else {}),
        status=201,
    )


async def send(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    authorise(request, conversation_id, _bearer(request))
    max_chars = request.app[SERVICES].settings.max_message_chars
    incoming = parse_message(await json_body(request), max_chars)
    limit_message(request, conversation_id)
    stored, created = await request.app[INTAKE].receive(
        conversation_id, incoming.client_msg_id, incoming.text, incoming.button
    )
    return web.json_response(
        {"id": stored.id, "seq": stored.seq, "client_msg_id": stored.client_msg_id},
        status=201 if created else 200,
    )


async def poll(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    authorise(request, conversation_id, _bearer(request))
    async with request.app[SERVICES].sessions() as session:
        # messages first: the mode read after them is at least as new as the newest of them
        # (each statement sees the latest commit on PostgreSQL)
        messages = await messages_since(session, conversation_id, _since(request))
        conversation = await get_conversation(session, conversation_id)
    return web.json_response(
        {
            "mode": conversation.mode,
            "language": conversation.language,
            "messages": [m.as_dict() for m in messages],
        }
    )


async def queue_status(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    authorise(request, conversation_id, _bearer(request))
    status = await request.app[POSITIONS].status(conversation_id)
    return web.json_response(status or {"type": "queue", "position": None})


async def back_to_bot(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    authorise(request, conversation_id, _bearer(request))
    await request.app[INTAKE].back_to_bot(conversation_id)
    return web.json_response({"mode": "bot"})


async def callback(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    authorise(request, conversation_id, _bearer(request))
    contact = parse_contact(await json_body(request))
    limit_callback(request, conversation_id)
    await request.app[INTAKE].leave_callback(conversation_id, contact)
    return web.json_response({"saved": True}, status=201)


async def rate(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    authorise(request, conversation_id, _bearer(request))
    data = await json_body(request)
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int):
        raise BadRequest("invalid_score", "score must be a whole number from 1 to 5")
    saved = await request.app[INTAKE].rate(conversation_id, score)
    return web.json_response({"saved": saved}, status=201 if saved else 200)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/conversations", start)
    app.router.add_post("/api/conversations/{id}/messages", send)
    app.router.add_get("/api/conversations/{id}/messages", poll)
    app.router.add_get("/api/conversations/{id}/queue", queue_status)
    app.router.add_post("/api/conversations/{id}/back-to-bot", back_to_bot)
    app.router.add_post("/api/conversations/{id}/callback", callback)
    app.router.add_post("/api/conversations/{id}/satisfaction", rate)
    app.router.add_get("/api/conversations/{id}/ws", socket.websocket)
