"""The contract between the bot service and a shop's backend (SHOP_CONNECTOR=http).

The shop implements three routes under its base URL (SHOP_URL); docs/shop-api.yaml is the same
contract as an OpenAPI document, and tests/shop/backend.py a reference implementation.

    GET  /customers/{id}   one customer's record: profile, orders, Autoships (404: unknown)
    GET  /customers?q=...  up to 10 customers whose name, e-mail, phone, id or order id match
                           (an empty q finds nobody: the service's /readyz asks it so)
    POST /remedies         execute a remedy an agent granted, exactly once per Idempotency-Key

Every request is signed, so the shop knows it comes from the service and was not replayed:

    X-Shop-Timestamp: unix seconds when it was sent
    X-Shop-Signature: sha256=<hex HMAC-SHA256(SHOP_SECRET, "<timestamp>.<METHOD>.<path>.<body>")>

where <path> is the request target as sent on the wire (path and query string, percent-encoded,
the base URL's own path included) and <body> the exact bytes sent (empty for a GET). The shop
refuses (401) a wrong signature or a timestamp more than MAX_SKEW_SECONDS from its clock; the
service retries a 401 like any failure, so grants sent while a secret is being rotated go
through once both sides have the new one.

POST /remedies carries `Idempotency-Key: grant-<grant id>` and the body of `remedy_body`. The
shop answers:
- 200 or 201 `{"id", "status": "done", "reference", ...}` once it has executed it (a replacement
  adds `replacement_order_id`). The same key again answers the same, executing nothing again.
- 409 or 422 `{"error", "message"}` when it refuses it for good (more than is left to refund,
  an unknown order or one that is not the customer's, the same key with another body): the
  grant fails and is not retried; a supervisor sees it.
- anything else (5xx, 429, a timeout, no connection): the service retries later, with
  exponential backoff and jitter, under the same key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

MAX_SKEW_SECONDS = 300
SIGNATURE = "X-Shop-Signature"
TIMESTAMP = "X-Shop-Timestamp"
IDEMPOTENCY_KEY = "Idempotency-Key"
REFUSED = frozenset({409, 422})  # the shop's "no, for good": the grant fails without retries


def signature(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, now: float, method: str, path: str, body: bytes) -> dict[str, str]:
    timestamp = int(now)
    return {
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, method, path, body),
    }


def verify(
    secret: str, headers: Any, method: str, path: str, body: bytes, now: float
) -> str | None:
    """Why the request must be refused, or None when it is signed by `secret` and fresh."""
    raw = headers.get(TIMESTAMP, "")
    if not raw.isascii() or not raw.isdigit():
        return f"{TIMESTAMP} must be unix seconds"
    timestamp = int(raw)
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        return f"{TIMESTAMP} is more than {MAX_SKEW_SECONDS} s from the shop's clock"
    expected = signature(secret, timestamp, method, path, body)
    if not hmac.compare_digest(headers.get(SIGNATURE, "").encode(), expected.encode()):
        return f"{SIGNATURE} does not match"
    return None


def idempotency_key(grant_id: int) -> str:
    return f"grant-{grant_id}"


def remedy_body(
    grant_id: int,
    kind: str,
    customer_id: str,
    order_id: str,
    amount_cents: int,
    reason: str,
    conversation_id: str,
    granted_by: str,
    granted_at: str,
) -> dict[str, Any]:
    """What POST /remedies sends: the grant as the ledger has it (kind: credit, refund,
    fee_waiver or replacement; amount in cents, a replacement's the value of the lines)."""
    return {
        "id": idempotency_key(grant_id),
        "kind": kind,
        "customer_id": customer_id,
        "order_id": order_id,
        "amount_cents": amount_cents,
        "reason": reason,
        "conversation_id": conversation_id,
        "granted_by": granted_by,
        "granted_at": granted_at,
    }
