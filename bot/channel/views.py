"""The website channel: the customer's HTTP and websocket routes.

POST /api/conversations                      start {language, customer?}: id and token
POST /api/conversations/{id}/messages        send (Authorization: Bearer <token>)
GET  /api/conversations/{id}/messages        poll: ?since_seq=k returns what came after k
GET  /api/conversations/{id}/queue           place in the queue and estimated wait
POST /api/conversations/{id}/back-to-bot     stop waiting for a person
POST /api/conversations/{id}/callback        {email?, phone?, name?, note?} when nobody can answer
POST /api/conversations/{id}/satisfaction    {score: 1-5}
GET  /api/conversations/{id}/ws              websocket; first frame {"type":"hello","token",...}
                                             then {"type":"message",...} or {"type":"typing"}

Views only parse, validate and map errors; the rules live in bot/channel/chat.py and
bot/conversations/messages.py.
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

from bot.channel import identity, tokens
from bot.channel.callbacks import InvalidContact, parse_contact
from bot.channel.chat import Chat
from bot.channel.survey import InvalidScore
from bot.conversations.controls import first_control
from bot.conversations.lifecycle import mode_frame
from bot.conversations.messages import Closed, NotFound, get_conversation, messages_since
from bot.db.models import Mode
from bot.desk.queue import QueueError
from bot.rasa.client import RasaUnavailable
from bot.settings import Settings
from bot.web.ratelimit import RateLimiter

CHAT = web.AppKey("chat", Chat)
log = logging.getLogger(__name__)
TYPING_INTERVAL_SECONDS = 2.0
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


class TooMany(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Limits:
    """Flood limits per conversation and per address (see bot/web/ratelimit.py)."""

    messages: RateLimiter
    starts: RateLimiter
    address: RateLimiter

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            RateLimiter(settings.rate_messages_per_conversation, 60),
            RateLimiter(settings.rate_starts_per_address, 60),
            RateLimiter(settings.rate_messages_per_address, 60),
        )

    def check(self, limiter: RateLimiter, key: str) -> None:
        if not limiter.allow(key):
            raise TooMany(limiter.retry_after(key))


LIMITS = web.AppKey("limits", Limits)


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
    if control := first_control(text):
        raise BadRequest(
            "invalid_text", f"text must not contain control characters (found {control})"
        )
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
    if "customer_id" in data:
        raise BadRequest(
            "unsigned_customer",
            "customer_id is not accepted from a browser: send `customer`, the identity token "
            "the shop's site signs for a signed-in customer",
        )
    chat = request.app[CHAT]
    customer_id = None
    if data.get("customer") is not None:
        try:
            customer_id = identity.verify(
                chat.settings.customer_identity_secret, str(data["customer"])
            )
        except identity.InvalidIdentity as error:
            raise BadRequest("invalid_customer", str(error)) from None
    request.app[LIMITS].check(request.app[LIMITS].starts, _address(request))
    started = await chat.start(language.split("-")[0], customer_id)
    return web.json_response(
        {
            "conversation_id": started.conversation_id,
            "token": started.token,
            "expires": started.expires,
        },
        status=201,
    )


def _address(request: web.Request) -> str:
    return request.remote or "unknown"


def _limit_message(request: web.Request, conversation_id: str) -> None:
    limits = request.app[LIMITS]
    limits.check(limits.messages, conversation_id)
    limits.check(limits.address, _address(request))


async def send(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    chat = request.app[CHAT]
    incoming = parse_message(await _json_body(request), chat.settings.max_message_chars)
    _limit_message(request, conversation_id)
    stored, created = await chat.receive(conversation_id, incoming.client_msg_id, incoming.text)
    return web.json_response(
        {"id": stored.id, "seq": stored.seq, "client_msg_id": stored.client_msg_id},
        status=201 if created else 200,
    )


async def poll(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    async with request.app[CHAT].sessions() as session:
        # messages first: the mode read after them is at least as new as the newest of them
        # (each statement sees the latest commit on PostgreSQL)
        messages = await messages_since(session, conversation_id, _since(request))
        conversation = await get_conversation(session, conversation_id)
    return web.json_response(
        {"mode": conversation.mode, "messages": [m.as_dict() for m in messages]}
    )


async def queue_status(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    status = await request.app[CHAT].queue_status(conversation_id)
    return web.json_response(status or {"type": "queue", "position": None})


async def back_to_bot(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    await request.app[CHAT].back_to_bot(conversation_id)
    return web.json_response({"mode": "bot"})


async def callback(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    contact = parse_contact(await _json_body(request))
    await request.app[CHAT].leave_callback(conversation_id, contact)
    return web.json_response({"saved": True}, status=201)


async def rate(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    _authorise(request, conversation_id, _bearer(request))
    data = await _json_body(request)
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int):
        raise BadRequest("invalid_score", "score must be a whole number from 1 to 5")
    saved = await request.app[CHAT].rate(conversation_id, score)
    return web.json_response({"saved": saved}, status=201 if saved else 200)


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
        await socket.send_json(mode_frame(conversation.mode))
        for message in backlog:
            await socket.send_json(message.as_dict())
        if conversation.mode == Mode.QUEUED and (
            status := await chat.queue_status(conversation_id)
        ):
            await socket.send_json(status)
        last_typing = 0.0
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                continue
            if _is_typing(frame.data):
                now = asyncio.get_running_loop().time()
                if now - last_typing >= TYPING_INTERVAL_SECONDS:
                    last_typing = now
                    await chat.typing(conversation_id, "customer")
                continue
            await _on_frame(request, socket, conversation_id, frame.data)
    except NotFound:
        await socket.close(code=4404, message=b"no such conversation")
    finally:
        chat.hub.leave(conversation_id, socket)
    return socket


def _is_typing(raw: str) -> bool:
    return len(raw) < 64 and raw.replace(" ", "") == '{"type":"typing"}'


async def _on_frame(
    request: web.Request, socket: web.WebSocketResponse, conversation_id: str, raw: str
) -> None:
    chat = request.app[CHAT]
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("type") != "message":
            raise BadRequest("invalid_message", 'expected {"type": "message", ...}')
        incoming = parse_message(data, chat.settings.max_message_chars)
        _limit_message(request, conversation_id)
        stored, _ = await chat.receive(conversation_id, incoming.client_msg_id, incoming.text)
    except BadRequest as error:
        await socket.send_json({"type": "error", **error.body})
        return
    except TooMany as error:
        await socket.send_json(
            {
                "type": "error",
                "error": "rate_limited",
                "message": str(error),
                "retry_after": error.retry_after,
                "client_msg_id": data.get("client_msg_id"),
            }
        )
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
    except (BadRequest, InvalidContact, InvalidScore) as error:
        body = error.body if isinstance(error, BadRequest) else _invalid(error)
        return web.json_response(body, status=400)
    except TooMany as error:
        return web.json_response(
            {"error": "rate_limited", "message": str(error), "retry_after": error.retry_after},
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    except QueueError as error:
        return web.json_response({"error": "conflict", "message": str(error)}, status=409)
    except RasaUnavailable:
        return web.json_response(
            {"error": "bot_unavailable", "message": "the bot can't take the conversation now"},
            status=502,
        )
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


def _invalid(error: Exception) -> dict[str, str]:
    return {"error": "invalid_request", "message": str(error)}


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/conversations", start)
    app.router.add_post("/api/conversations/{id}/messages", send)
    app.router.add_get("/api/conversations/{id}/messages", poll)
    app.router.add_get("/api/conversations/{id}/queue", queue_status)
    app.router.add_post("/api/conversations/{id}/back-to-bot", back_to_bot)
    app.router.add_post("/api/conversations/{id}/callback", callback)
    app.router.add_post("/api/conversations/{id}/satisfaction", rate)
    app.router.add_get("/api/conversations/{id}/ws", websocket)
