"""What every view shares: JSON bodies, ids in the path, allowed origins, and the one place errors
become responses (the middleware) or websocket frames."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import BadRequest, ServiceError, described

log = logging.getLogger(__name__)
# The database (or the network to it) failing: a reply says so and nothing is acknowledged.
STORAGE_ERRORS = (SQLAlchemyError, OSError)
# Nothing was stored, so nothing is acknowledged: the client keeps what it sent and retries.
UNAVAILABLE = {"error": "unavailable", "message": "the message could not be stored; please retry"}


async def json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid_json", "the body must be UTF-8 JSON") from None


def path_id(request: web.Request) -> int:
    """The numeric {id} of the path (a ticket, approval, label or training run)."""
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """Browsers always send Origin on websockets: a page elsewhere must not talk as our user."""
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") in allowed


def error_frame(error: ServiceError, **extra: Any) -> dict[str, Any]:
    """An error as a websocket frame: the same body an HTTP response would carry."""
    return {"type": "error", **described(error)[1], **extra}


@web.middleware
async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ServiceError as error:
        status, body, headers = described(error)
        return web.json_response(body, status=status, headers=headers)
    except STORAGE_ERRORS:
        log.exception("storage unavailable for %s %s", request.method, request.path)
        return web.json_response(UNAVAILABLE, status=503)
