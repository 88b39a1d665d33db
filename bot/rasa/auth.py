"""Short-lived tokens for Rasa's HTTP API.

Rasa runs with `--jwt-secret`; the service signs an HS256 JWT per call instead of sending the
shared secret itself (Rasa's `--auth-token` travels in the URL, where it ends up in logs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

LIFETIME_SECONDS = 300


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rasa_jwt(secret: str, *, lifetime: int = LIFETIME_SECONDS, now: float | None = None) -> str:
    """A JWT that Rasa accepts as its admin for `lifetime` seconds."""
    issued = int(time.time() if now is None else now)
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {
        "user": {"username": "bot-service", "role": "admin"},
        "iat": issued,
        "exp": issued + lifetime,
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def authorization(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {rasa_jwt(secret)}"}
