from __future__ import annotations

import base64
import hashlib
import hmac
import json

from bot.rasa.auth import rasa_jwt


def _decode(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_token_is_an_hs256_jwt_for_rasa_admin_that_expires() -> None:
    secret = "s" * 40
    token = rasa_jwt(secret, lifetime=60, now=1_000_000)
    header, payload, signature = token.split(".")
    assert _decode(header) == {"alg": "HS256", "typ": "JWT"}
    assert _decode(payload) == {
        "user": {"username": "bot-service", "role": "admin"},
        "iat": 1_000_000,
        "exp": 1_000_060,
    }
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected
    assert secret not in token
