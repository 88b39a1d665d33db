"""Desk sign-in: the session cookie, CSRF, throttling, and what every desk view needs."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.db.models import DeskSession, StaffRole, User
from bot.desk import staff
from bot.desk.queue import DESK_ROLES, release_agent
from bot.errors import BadRequest, Forbidden, TooMany, Unauthorized
from bot.services import SERVICES
from bot.web.http import json_body

COOKIE = "desk_session"
USER = web.RequestKey("user", User)
DESK_SESSION = web.RequestKey("desk_session", DeskSession)
PUBLIC = {"/desk/api/login"}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def lease(request: web.Request) -> timedelta:
    return timedelta(seconds=request.app[SERVICES].settings.lease_seconds)


def current_user(request: web.Request) -> User:
    return request[USER]


def sees_customers(request: web.Request) -> User:
    """The signed-in person, if their role may read customers' records: those who work
    conversations. Designers improve the bot from what customers wrote (their inbox shows it
    without personal data) and see no one's records."""
    user = current_user(request)
    if user.role not in DESK_ROLES:
        raise Forbidden(f"a {user.role} sees no customer records")
    return user


def supervisor(request: web.Request) -> User:
    user = current_user(request)
    if user.role != StaffRole.SUPERVISOR:
        raise Forbidden("only supervisors may do this")
    return user


@web.middleware
async def desk_auth(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every /desk/api and /desk/ws route needs a session; every change also the CSRF header.

    Pages under /desk/ (issue 5) are public files; what they show comes from the API.
    """
    protected = request.path.startswith(("/desk/api/", "/desk/ws"))
    if not protected or request.path in PUBLIC:
        response: web.StreamResponse = await handler(request)
        return response
    token = request.cookies.get(COOKIE)
    found = None
    if token:
        async with request.app[SERVICES].sessions() as session:
            found = await staff.session_user(session, token)
    if found is None:
        raise Unauthorized("sign in first")
    user, desk_session = found
    if (
        request.method not in SAFE_METHODS
        and request.headers.get("X-CSRF-Token") != desk_session.csrf_token
    ):
        raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf")
    request[USER], request[DESK_SESSION] = user, desk_session
    response = await handler(request)
    return response


def me_body(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "team": user.team,
        "languages": list(user.spoken),
        "max_concurrent": user.max_concurrent,
    }


async def login(request: web.Request) -> web.Response:
    data = await json_body(request)
    username, password = (
        (data.get("username"), data.get("password")) if isinstance(data, dict) else (None, None)
    )
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("invalid_login", "username and password must be strings")
    address = request.remote or "unknown"
    services = request.app[SERVICES]
    try:
        async with services.sessions.begin() as session:
            signed_in = await staff.sign_in(session, username, password, address)
    except staff.Throttled as throttled:
        seconds = max(1, math.ceil(throttled.retry_after.total_seconds()))
        raise TooMany(
            f"too many failed sign-ins; try again in {seconds} seconds", seconds, code="throttled"
        ) from None
    if signed_in is None:
        raise Unauthorized("wrong username or password", code="invalid_login")
    user, token, desk_session = signed_in
    response = web.json_response({"user": me_body(user), "csrf_token": desk_session.csrf_token})
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
    """Ends the session, closes its sockets everywhere, and returns its conversations to the
    queue (the agent is no longer there to answer them)."""
    services, user = request.app[SERVICES], current_user(request)
    async with services.work() as work:
        await staff.sign_out(work.session, request.cookies[COOKIE])
        released = await release_agent(work, user)
        work.tell_desks({"type": "signed_out", "session": request[DESK_SESSION].token_hash})
    response = web.json_response({"signed_out": True, "returned_to_queue": released})
    response.del_cookie(COOKIE, path="/desk")
    return response


async def me(request: web.Request) -> web.Response:
    return web.json_response(
        {"user": me_body(current_user(request)), "csrf_token": request[DESK_SESSION].csrf_token}
    )
