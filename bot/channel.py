"""The website channel: the customer's HTTP and websocket routes.

POST /api/conversations                      start; returns the conversation id and its token
POST /api/conversations/{id}/messages        send (Authorization: Bearer <token>)
GET  /api/conversations/{id}/messages        poll: ?since_seq=k returns what came after k
GET  /api/conversations/{id}/ws              websocket; first frame {"type":"hello","token",...}

Views only parse, validate and map errors; the rules live in bot/chat.py and bot/conversations.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.exc import SQLAlchemyError

from bot import tokens
from bot.chat import Chat
from bot.conversations import Closed, NotFound, get_conversation, messages_since

CHAT = web.AppKey("chat", Chat)
log = logging.getLogger(__name__)
# Nothing was stored, so nothing is acknowledged: the client keeps the message and retries.
UNAVAILABLE = {"error": "unavailable", "message": "the message could not be stored; please retry"}
CLIENT_MSG_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
LANGUAGE = re.compile(r"[a-z]{2}(-[A-Za-z]{2})?")
HELLO_TIMEOUT = 10
MAX_FRAME_BYTES = 64 * 1024


class BadRequest(Exception):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.body = {"error": code, "message": message, **extra}


@dataclass(frozen=True)
class Incoming:
    client_msg_id: str
    text: str


def parse_message(data: Any, max_chars: int) -> Incoming:
    """A customer message, or BadRequest saying exactly what is wrong (nothing is stored)."""
    if not isinstance(data, dict):
        raise BadRequest("invalid_message", "expected a JSON object")
    client_msg_id, text = data.get("client_msg_id"), data.get("text")
    if not isinstance(client_msg_id, str) or not CLIENT_MSG_ID.fullmatch(client_msg_id):
        raise BadRequest(
            "invalid_client_msg_id", "client_msg_id must be 1-64 letters, digits or ._:-"
        )
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("invalid_text", "text must be a non-empty string")
    if "\x00" in text:
        raise BadRequest("invalid_text", "text must not contain NUL characters")
    if len(text) > max_chars:
        raise BadRequest(
            "message_too_long",
            f"messages are limited to {max_chars} characters",
            max_chars=max_chars,
        )
    return Incoming(client_msg_id, text)


async def _json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid_json", "the body must be UTF-8 JSON") from None


def _authorise(request: web.Request, conversation_id: str, token: str | None) -> None:
    try:
        tokens.verify(request.app[CHAT].settings.secret, conversation_id, token or "")
    except tokens.InvalidToken as error:
        raise web.HTTPUnauthorized(
            text=json.dumps({"error": "invalid_token", "message": str(error)}),
            content_type="application/json",
        ) from None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None


def _since(request: web.Request) -> int:
    raw = request.query.get("since_seq", "0")
    if not raw.isdigit():
        raise BadRequest("invalid_since_seq", "since_seq must be a whole number")
    return int(raw)


async def start(request: web.Request) -> web.Response:
    data = await _json_body(request) if request.can_read_body else {}
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "expected a JSON object")
    language = data.get("language", "en")
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        raise BadRequest("invalid_language", "language must be a code like 'en' or 'en-GB'")
    customer_id = data.get("customer_id")
    if customer_id is not None and (not isinstance(customer_id, str) or len(customer_id) > 64):
        raise BadRequest("invalid_customer_id", "customer_id must be a string of up to 64 chars")
    started = await request.app[CHAT].start(language.split("-")[0], customer_id)
    return web.json_response(
        {
            "conversation_id": started.conversation_id,
            "token": started.token,
            "expires": started.expires,
        },
        status=201,
    )


async def send(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    chat = request.app[CHAT]
    incoming = parse_message(await _json_body(request), chat.settings.max_message_chars)
    stored, created = await chat.receive(conversation_id, incoming.client_msg_id, incoming.text)
    return web.json_response(
        {"id": stored.id, "seq": stored.seq, "client_msg_id": stored.client_msg_id},
        status=201 if created else 200,
    )


async def poll(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    async with request.app[CHAT].sessions() as session:
        conversation = await get_conversation(session, conversation_id)
        messages = await messages_since(session, conversation_id, _since(request))
    return web.json_response(
        {"mode": conversation.mode, "messages": [m.as_dict() for m in messages]}
    )


def _origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    # Browsers always send Origin on websockets; a page elsewhere must not talk as our customer.
    return origin is None or origin.rstrip("/") in request.app[CHAT].settings.allowed_origins


async def websocket(request: web.Request) -> web.StreamResponse:
    if not _origin_allowed(request):
        raise web.HTTPForbidden(text="origin not allowed")
    conversation_id = request.match_info["id"]
    chat = request.app[CHAT]
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
    await socket.prepare(request)
    try:
        hello = await socket.receive_json(timeout=HELLO_TIMEOUT)
        token = hello.get("token") if isinstance(hello, dict) else None
        tokens.verify(chat.settings.secret, conversation_id, str(token or ""))
        since = hello.get("since_seq", 0)
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise BadRequest("invalid_since_seq", "since_seq must be a whole number")
    except (TimeoutError, ValueError, TypeError, tokens.InvalidToken, BadRequest) as error:
        await socket.close(code=4401, message=str(error)[:120].encode())
        return socket
    # join before replaying, so nothing stored in between is missed (a client drops repeats by seq)
    chat.hub.join(conversation_id, socket)
    try:
        async with chat.sessions() as session:
            conversation = await get_conversation(session, conversation_id)
            backlog = await messages_since(session, conversation_id, since)
        await socket.send_json({"type": "mode", "mode": conversation.mode})
        for message in backlog:
            await socket.send_json(message.as_dict())
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            await _on_frame(chat, socket, conversation_id, frame.data)
    except NotFound:
        await socket.close(code=4404, message=b"no such conversation")
    finally:
        chat.hub.leave(conversation_id, socket)
    return socket


async def _on_frame(
    chat: Chat, socket: web.WebSocketResponse, conversation_id: str, raw: str
) -> None:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("type") != "message":
            raise BadRequest("invalid_message", 'expected {"type": "message", ...}')
        incoming = parse_message(data, chat.settings.max_message_chars)
        stored, _ = await chat.receive(conversation_id, incoming.client_msg_id, incoming.text)
    except BadRequest as error:
        await socket.send_json({"type": "error", **error.body})
        return
    except ValueError:
        await socket.send_json({"type": "error", "error": "invalid_json", "message": "not JSON"})
        return
    except Closed as error:
        await socket.send_json({"type": "error", "error": "closed", "message": str(error)})
        return
    except (SQLAlchemyError, OSError):
        log.exception("storage unavailable for conversation %s", conversation_id)
        await socket.send_json({"type": "error", **UNAVAILABLE})
        return
    # acknowledged only now: the message is committed (N1)
    await socket.send_json(
        {"type": "ack", "client_msg_id": stored.client_msg_id, "id": stored.id, "seq": stored.seq}
    )


@web.middleware
async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except BadRequest as error:
        return web.json_response(error.body, status=400)
    except NotFound:
        return web.json_response(
            {"error": "not_found", "message": "no such conversation"}, status=404
        )
    except Closed as error:
        return web.json_response({"error": "closed", "message": str(error)}, status=409)
    except (SQLAlchemyError, OSError):
        log.exception("storage unavailable for %s %s", request.method, request.path)
        return web.json_response(UNAVAILABLE, status=503)
    except asyncio.CancelledError:
        raise


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/conversations", start)
    app.router.add_post("/api/conversations/{id}/messages", send)
    app.router.add_get("/api/conversations/{id}/messages", poll)
    app.router.add_get("/api/conversations/{id}/ws", websocket)
