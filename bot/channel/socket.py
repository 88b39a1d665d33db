"""The customer's websocket: the backlog since `since_seq`, then live messages, typing and queue
positions; messages sent on it are stored as over HTTP and acknowledged once committed (N1).

First frame {"type": "hello", "token": ..., "since_seq": k}, then {"type": "message", ...} or
{"type": "typing"}. The service's first frame is the mode, with the conversation's language.
Errors come back as frames with the bodies HTTP would send (bot/web/http.py).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web

from bot.channel import tokens
from bot.channel.intake import INTAKE, parse_message
from bot.channel.limits import LIMITS, SOCKET_RETRY_SECONDS, address, limit_message
from bot.channel.positions import POSITIONS
from bot.conversations.lifecycle import mode_frame
from bot.conversations.messages import NotFound, get_conversation, messages_since
from bot.db.models import Mode
from bot.errors import BadRequest, ServiceError, TooMany
from bot.services import SERVICES
from bot.web.http import (
    STORAGE_ERRORS,
    UNAVAILABLE,
    Unacceptable,
    error_frame,
    origin_allowed,
    parse_json,
)

log = logging.getLogger(__name__)
TYPING_INTERVAL_SECONDS = 2.0
HELLO_TIMEOUT = 10
MAX_FRAME_BYTES = 64 * 1024


async def websocket(request: web.Request) -> web.StreamResponse:
    """At most SOCKETS_PER_ADDRESS open from one address (before the hello, refused with 429),
    and SOCKETS_PER_CONVERSATION on one conversation (after it, closed with 4429)."""
    services = request.app[SERVICES]
    if not origin_allowed(request, services.settings.allowed_origins):
        raise web.HTTPForbidden(text="origin not allowed")
    conversation_id = request.match_info["id"]
    limits, remote = request.app[LIMITS], address(request)
    if not limits.sockets_per_address.enter(remote):
        raise TooMany("too many chat connections from this address", SOCKET_RETRY_SECONDS)
    try:
        socket = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
        await socket.prepare(request)
        since = await _hello(request, socket, conversation_id)
        if since is None:
            return socket
        if not limits.sockets_per_conversation.enter(conversation_id):
            await socket.close(code=4429, message=b"too many connections to this conversation")
            return socket
        try:
            with services.metrics.sockets.labels("customer").track_inprogress():
                await _serve(request, socket, conversation_id, since)
        finally:
            limits.sockets_per_conversation.leave(conversation_id)
    finally:
        limits.sockets_per_address.leave(remote)
    return socket


async def _hello(
    request: web.Request, socket: web.WebSocketResponse, conversation_id: str
) -> int | None:
    """The seq the client has, from its first frame; None (the socket closed) if it is wrong."""
    try:
        hello = parse_json(await socket.receive_str(timeout=HELLO_TIMEOUT))
        token = hello.get("token") if isinstance(hello, dict) else None
        tokens.verify(request.app[SERVICES].settings.secret, conversation_id, str(token or ""))
        since = hello.get("since_seq", 0)
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise BadRequest("invalid_since_seq", "since_seq must be a whole number")
    except (TimeoutError, ValueError, TypeError, tokens.InvalidToken, BadRequest) as error:
        await socket.close(code=4401, message=str(error)[:120].encode())
        return None
    return since


async def _serve(
    request: web.Request, socket: web.WebSocketResponse, conversation_id: str, since: int
) -> None:
    services = request.app[SERVICES]
    # join before replaying, so nothing stored in between is missed (a client drops repeats by seq)
    services.hub.join(conversation_id, socket)
    try:
        async with services.sessions() as session:
            conversation = await get_conversation(session, conversation_id)
            backlog = await messages_since(session, conversation_id, since)
        # the conversation's language with the first frame: the widget speaks it
        await socket.send_json(mode_frame(conversation.mode) | {"language": conversation.language})
        for message in backlog:
            await socket.send_json(message.as_dict())
        if conversation.mode == Mode.QUEUED and (
            status := await request.app[POSITIONS].status(conversation_id)
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
                    await services.typing(conversation_id, "customer")
                continue
            await _on_frame(request, socket, conversation_id, frame.data)
    except NotFound:
        await socket.close(code=4404, message=b"no such conversation")
    finally:
        services.hub.leave(conversation_id, socket)


def _is_typing(raw: str) -> bool:
    return len(raw) < 64 and raw.replace(" ", "") == '{"type":"typing"}'


async def _on_frame(
    request: web.Request, socket: web.WebSocketResponse, conversation_id: str, raw: str
) -> None:
    try:
        data = parse_json(raw)
        if not isinstance(data, dict) or data.get("type") != "message":
            raise BadRequest("invalid_message", 'expected {"type": "message", ...}')
        incoming = parse_message(data, request.app[SERVICES].settings.max_message_chars)
        limit_message(request, conversation_id)
        stored, _ = await request.app[INTAKE].receive(
            conversation_id, incoming.client_msg_id, incoming.text, incoming.button
        )
    except TooMany as error:
        await socket.send_json(error_frame(error, client_msg_id=data.get("client_msg_id")))
        return
    except ServiceError as error:
        await socket.send_json(error_frame(error))
        return
    except ValueError as error:
        said = str(error) if isinstance(error, Unacceptable) else "not JSON"
        await socket.send_json({"type": "error", "error": "invalid_json", "message": said})
        return
    except STORAGE_ERRORS:
        log.exception(
            "storage unavailable for conversation %s",
            conversation_id,
            extra={"conversation_id": conversation_id},
        )
        await socket.send_json({"type": "error", **UNAVAILABLE})
        return
    # acknowledged only now: the message is committed (N1)
    await socket.send_json(
        {"type": "ack", "client_msg_id": stored.client_msg_id, "id": stored.id, "seq": stored.seq}
    )
