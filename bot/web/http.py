"""What every view shares: JSON bodies, ids in the path, allowed origins, and the one place errors
become responses (the middleware) or websocket frames."""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import BadRequest, ServiceError, described

log = logging.getLogger(__name__)
# The database (or the network to it) failing: a reply says so and nothing is acknowledged.
STORAGE_ERRORS = (SQLAlchemyError, OSError)
# Nothing was stored, so nothing is acknowledged: the client keeps what it sent and retries.
UNAVAILABLE = {"error": "unavailable", "message": "the message could not be stored; please retry"}
INTERNAL = {"error": "internal", "message": "something went wrong on our side; it was logged"}

# Every number the service takes (ids, seqs, cents, scores) goes into an INTEGER column, which
# holds 32 bits on PostgreSQL: a larger one is refused as input, not failed on in the database.
INTEGER_MAX = 2**31 - 1
DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: '²' and '٣' pass str.isdigit()
# What no text column (or UTF-8 file) can hold: NUL, and lone surrogates ("\ud800" in JSON).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Unacceptable(ValueError):
    """JSON the service cannot take; the message says what is wrong with it."""


def whole_number(raw: str, maximum: int = INTEGER_MAX) -> int | None:
    """`raw` as a whole number from 0 to `maximum` if it is written in ASCII digits, else None."""
    if not DIGITS.fullmatch(raw) or int(raw) > maximum:
        return None
    return int(raw)


def _integer(raw: str) -> int:
    value = int(raw)
    if abs(value) > INTEGER_MAX:
        raise Unacceptable(f"numbers are limited to {INTEGER_MAX} either side of 0")
    return value


def _real(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise Unacceptable(f"{raw} is out of range")
    return value


def _constant(name: str) -> Any:
    raise Unacceptable(f"{name} is not JSON")


def _check_strings(data: Any) -> None:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending += value.keys()
            pending += value.values()
        elif isinstance(value, list):
            pending += value
        elif isinstance(value, str) and (found := UNSTORABLE.search(value)):
            raise Unacceptable(
                "strings must not contain control characters or lone surrogates "
                f"(found U+{ord(found.group()):04X})"
            )


def parse_json(text: str) -> Any:
    """JSON as every body and websocket frame is read: Unacceptable (a ValueError) for what is
    not JSON, and for what no column can store (an integer beyond INTEGER_MAX, NaN or Infinity,
    a string with NUL or a lone surrogate), so that is refused before anything is written."""
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except RecursionError:
        raise Unacceptable("nested too deeply") from None
    _check_strings(data)
    return data


async def json_body(request: web.Request) -> Any:
    """The body as JSON. It is read as UTF-8 whatever charset the request names: JSON has no
    other (RFC 8259, section 8.1), and a charset that names no codec is not an error."""
    try:
        return parse_json((await request.read()).decode("utf-8"))
    except Unacceptable as error:
        raise BadRequest("invalid_json", f"the body must be UTF-8 JSON: {error}") from None
    except ValueError:  # not JSON, or not UTF-8
        raise BadRequest("invalid_json", "the body must be UTF-8 JSON") from None


def path_id(request: web.Request) -> int:
    """The numeric {id} of the path (a ticket, approval, label or training run)."""
    found = whole_number(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound()
    return found


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
    except web.HTTPException:
        raise
    except Exception:
        if request.writer.output_size > 0:
            raise  # a websocket answered its handshake already: aiohttp closes the connection
        # a bug: answered here, inside the security headers' middleware, so the 500 carries them
        log.exception("unexpected error in %s %s", request.method, request.path)
        return web.json_response(INTERNAL, status=500)
