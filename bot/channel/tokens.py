"""Conversation tokens: what a website visitor holds to speak in one conversation.

`<expires>.<signature>`, an HMAC-SHA256 over the conversation id and the expiry with the service's
secret. The service generates the conversation id, so a token for one conversation is useless for
any other, and nothing a visitor sends can choose which conversation it lands in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

LIFETIME_SECONDS = 7 * 24 * 3600
EXPIRES = re.compile(r"[0-9]{1,12}")  # ASCII digits: '²' passes str.isdigit() but not int()


class InvalidToken(Exception):
    pass


def _signature(secret: str, conversation_id: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"{conversation_id}.{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def issue(secret: str, conversation_id: str, *, now: float | None = None) -> tuple[str, int]:
    expires = int(time.time() if now is None else now) + LIFETIME_SECONDS
    return f"{expires}.{_signature(secret, conversation_id, expires)}", expires


def verify(secret: str, conversation_id: str, token: str, *, now: float | None = None) -> None:
    """Raise InvalidToken unless `token` was issued for this conversation and has not expired."""
    expires_text, _, signature = token.partition(".")
    if not EXPIRES.fullmatch(expires_text) or not signature:
        raise InvalidToken("malformed token")
    expires = int(expires_text)
    expected = _signature(secret, conversation_id, expires)
    if not hmac.compare_digest(expected, signature):
        raise InvalidToken("token does not belong to this conversation")
    if expires < (time.time() if now is None else now):
        raise InvalidToken("token expired")
