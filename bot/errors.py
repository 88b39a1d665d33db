"""The service's one error hierarchy: what went wrong, said so that the person can act on it.

Domain code raises these and knows nothing of HTTP; each class carries the status and error code
it reaches a client with, and `described()` is the one mapping to a response body (the HTTP
middleware and both websockets use it: bot/web/http.py). Standard library only, so the designer's
files (read in the Rasa environment too) can raise them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    status: ClassVar[int] = 500
    code: str = "error"
    # what the client reads instead of the message, when the message is for the log only
    public: ClassVar[str | None] = None

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code or self.code
        self.extra = extra

    @property
    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.public or str(self), **self.extra}


class Invalid(ServiceError):
    """The request is wrong; nothing was stored."""

    status = 400
    code = "invalid_request"


class BadRequest(Invalid):
    """Invalid, with its own error code for the client."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message, code=code, **extra)


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request is fine but the state it acts on does not allow it (now)."""

    status = 409
    code = "conflict"


class TooMany(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, *, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after=retry_after)
        self.retry_after = retry_after


class BotUnavailable(ServiceError):
    """Rasa (or its action server) cannot answer; the message says why, for the log."""

    status = 502
    code = "bot_unavailable"
    public = "the bot can't take the conversation now"


class Unavailable(ServiceError):
    """A system the service depends on (the shop's backend) does not answer now; try again."""

    status = 503
    code = "unavailable"


def described(error: ServiceError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers of the response an error gets."""
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooMany) else {}
    return error.status, error.body, headers
