"""Who the website visitor is, as the shop vouches for it.

The shop's own site (where the customer is signed in) signs the customer id with the shared
CUSTOMER_IDENTITY_SECRET and passes the result to the widget: `<customer id>.<expires>.<sig>`, an
HMAC-SHA256 over the id and the expiry. Anything a browser sends unsigned could name any customer,
and agents act on the customer's orders and money, so an unsigned id is never accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

CUSTOMER_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
EXPIRES = re.compile(r"[0-9]{1,12}")  # ASCII digits: '²' passes str.isdigit() but not int()
LIFETIME_SECONDS = 24 * 3600


class InvalidIdentity(Exception):
    pass


def _signature(secret: str, customer_id: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"customer:{customer_id}.{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def sign(secret: str, customer_id: str, *, now: float | None = None) -> str:
    if not CUSTOMER_ID.fullmatch(customer_id):
        raise InvalidIdentity("a customer id is 1-32 letters, digits, _ or -")
    expires = int(time.time() if now is None else now) + LIFETIME_SECONDS
    return f"{customer_id}.{expires}.{_signature(secret, customer_id, expires)}"


def verify(secret: str, token: str, *, now: float | None = None) -> str:
    """The customer id the token vouches for, or InvalidIdentity."""
    customer_id, _, rest = token.partition(".")
    expires_text, _, signature = rest.partition(".")
    if (
        not CUSTOMER_ID.fullmatch(customer_id)
        or not EXPIRES.fullmatch(expires_text)
        or not signature
    ):
        raise InvalidIdentity("malformed customer identity")
    expected = _signature(secret, customer_id, int(expires_text))
    if not hmac.compare_digest(expected, signature):
        raise InvalidIdentity("the customer identity is not signed by the shop")
    if int(expires_text) < (time.time() if now is None else now):
        raise InvalidIdentity("the customer identity has expired")
    return customer_id
