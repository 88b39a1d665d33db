"""The desk's websocket: live queue changes, the conversations a person watches, typing, and
presence (an open desk socket is what makes an agent "online")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from aiohttp import WSMsgType, web

from bot.db.models import User
from bot.desk import presence, staff
from bot.desk.api.auth import COOKIE, DESK_SESSION, current_user
from bot.desk.queue import DESK_ROLES, owned_ticket
from bot.errors import Conflict, Forbidden
from bot.services import DESK_FEED, SERVICES, Services
from bot.web.http import origin_allowed, parse_json

log = logging.getLogger(__name__)
MAX_FRAME_BYTES = 16 * 1024


class DeskSockets:
    """This replica's desk sockets by sign-in session, to close them when it ends anywhere."""

    def __init__(self) -> None:
        self._by_session: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

    def add(self, session: str, socket: web.WebSocketResponse) -> None:
        self._by_session[session].add(socket)

    def discard(self, session: str, socket: web.WebSocketResponse) -> None:
        self._by_session[session].discard(socket)
        if not self._by_session[session]:
            del self._by_session[session]

    def on_desk_feed(self, body: dict[str, Any]) -> None:
        if body.get("type") == "signed_out":
            for socket in list(self._by_session.get(str(body.get("session")), ())):
                asyncio.get_running_loop().create_task(
                    socket.close(code=4401, message=b"signed out")
                )


SOCKETS = web.AppKey("desk_sockets", DeskSockets)


async def _still_signed_in(services: Services, token: str) -> bool:
    async with services.sessions() as session:
        return await staff.session_user(session, token) is not None


async def _keep_present(
    services: Services, socket: web.WebSocketResponse, user: User, token: str, watching: set[str]
) -> None:
    """Every few seconds: close the socket when the session ended or the user was deactivated
    (also when that happened in another process, such as `python -m bot users deactivate`), stop
    following conversations that are no longer this person's (transferred, lease lapsed), and
    refresh the presence of people who take conversations."""
    while not socket.closed:
        try:
            if not await _still_signed_in(services, token):
                await socket.close(code=4401, message=b"session ended")
                return
            async with services.sessions.begin() as session:
                for key in [k for k in watching if not k.startswith("notes:")]:
                    try:
                        await owned_ticket(session, key, user)
                    except (Forbidden, Conflict):
                        for gone in (key, f"notes:{key}"):
                            services.hub.leave(gone, socket)
                            watching.discard(gone)
                        await socket.send_json({"type": "unwatched", "conversation_id": key})
                if user.role in DESK_ROLES:
                    await presence.touch(session, user.id)
        except Exception:
            log.exception("desk presence refresh failed")
        await asyncio.sleep(presence.REFRESH_SECONDS)


async def desk_socket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request, request.app[SERVICES].settings.allowed_origins):
        raise web.HTTPForbidden(text="origin not allowed")
    services, user = request.app[SERVICES], current_user(request)
    token, session_key = request.cookies[COOKIE], request[DESK_SESSION].token_hash
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
    await socket.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(session_key, socket)
    services.hub.join(DESK_FEED, socket)
    takes_conversations = user.role in DESK_ROLES
    if takes_conversations:
        async with services.sessions.begin() as session:
            await presence.touch(session, user.id)
        await services.queue_changed()  # waiting customers' estimates change with who is online
    watching: set[str] = set()
    keeper = asyncio.create_task(_keep_present(services, socket, user, token, watching))
    try:
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                await _on_frame(services, request, socket, frame.data, watching)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        sockets.discard(session_key, socket)
        services.hub.leave(DESK_FEED, socket)
        for key in watching:
            services.hub.leave(key, socket)
        if takes_conversations:
            with contextlib.suppress(Exception):
                async with services.sessions.begin() as session:
                    await presence.leave(session, user.id)
                await services.queue_changed()
    return socket


async def _on_frame(
    services: Services,
    request: web.Request,
    socket: web.WebSocketResponse,
    raw: str,
    watching: set[str],
) -> None:
    """{"watch": id} follows a conversation; {"typing": id} tells its customer."""
    try:
        data = parse_json(raw)
        conversation_id = str(data.get("watch") or data.get("typing") or "")
        if not conversation_id:
            raise ValueError
    except (ValueError, AttributeError):
        await socket.send_json({"type": "error", "error": "invalid_frame"})
        return
    user = current_user(request)
    try:
        async with services.sessions() as session:
            await owned_ticket(session, conversation_id, user)
    except (Forbidden, Conflict) as error:
        await socket.send_json({"type": "error", "error": "forbidden", "message": str(error)})
        return
    if "typing" in data:
        await services.typing(conversation_id, "agent", user.display_name)
        return
    for key in (conversation_id, f"notes:{conversation_id}"):
        services.hub.join(key, socket)
        watching.add(key)
    await socket.send_json({"type": "watching", "conversation_id": conversation_id})
