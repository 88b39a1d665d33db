"""The desk's websocket: live queue changes, the conversations a person watches, typing, and
presence (an open desk socket is what makes an agent "online")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from bot.conversations.hub import Hub
from bot.db.models import StaffRole, User
from bot.desk import presence, staff
from bot.desk.api.auth import COOKIE, DESK_SESSION, current_user
from bot.desk.queue import DESK_ROLES, owned_ticket
from bot.errors import Conflict, Forbidden
from bot.services import DESK_FEED, SERVICES, Services
from bot.web.http import origin_allowed, parse_json

log = logging.getLogger(__name__)
MAX_FRAME_BYTES = 16 * 1024


@dataclass
class _Watcher:
    user: User
    watching: set[str]


class DeskSockets:
    """This replica's desk sockets by sign-in session, to close them when it ends anywhere, and
    whom each belongs to and what it follows, to detach it when its agent loses a conversation."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._by_session: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._watchers: dict[web.WebSocketResponse, _Watcher] = {}

    def add(
        self, session: str, socket: web.WebSocketResponse, user: User, watching: set[str]
    ) -> None:
        self._by_session[session].add(socket)
        self._watchers[socket] = _Watcher(user, watching)

    def discard(self, session: str, socket: web.WebSocketResponse) -> None:
        self._by_session[session].discard(socket)
        self._watchers.pop(socket, None)
        if not self._by_session[session]:
            del self._by_session[session]

    def on_detach(self, body: dict[str, Any]) -> None:
        """The agent's sockets stop following the conversation now, before anything published
        after the transfer reaches them (a supervisor may still watch any conversation)."""
        cid, agent_id = str(body.get("conversation_id")), body.get("agent_id")
        for socket, watcher in list(self._watchers.items()):
            if watcher.user.id != agent_id or watcher.user.role == StaffRole.SUPERVISOR:
                continue
            if cid in watcher.watching:
                unwatch(self._hub, socket, watcher.watching, cid)
                asyncio.get_running_loop().create_task(
                    Hub.send(socket, {"type": "unwatched", "conversation_id": cid})
                )

    def on_desk_feed(self, body: dict[str, Any]) -> None:
        if body.get("type") == "signed_out":
            for socket in list(self._by_session.get(str(body.get("session")), ())):
                asyncio.get_running_loop().create_task(
                    socket.close(code=4401, message=b"signed out")
                )


SOCKETS = web.AppKey("desk_sockets", DeskSockets)


def unwatch(hub: Hub, socket: web.WebSocketResponse, watching: set[str], cid: str) -> None:
    for gone in (cid, f"notes:{cid}"):
        hub.leave(gone, socket)
        watching.discard(gone)


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
                        if key in watching:  # not detached at a transfer meanwhile
                            unwatch(services.hub, socket, watching, key)
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
    watching: set[str] = set()
    sockets = request.app[SOCKETS]
    sockets.add(session_key, socket, user, watching)
    services.hub.join(DESK_FEED, socket)
    takes_conversations = user.role in DESK_ROLES
    if takes_conversations:
        async with services.sessions.begin() as session:
            await presence.touch(session, user.id)
        await services.queue_changed()  # waiting customers' estimates change with who is online
    keeper = asyncio.create_task(_keep_present(services, socket, user, token, watching))
    try:
        with services.metrics.sockets.labels("desk").track_inprogress():
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
