"""Flood limits per conversation and per address (bot/web/ratelimit.py counts), for the
customer's HTTP views and websocket alike: messages, conversations started, call-backs, and the
websockets open at once."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.errors import TooMany
from bot.settings import Settings
from bot.web.ratelimit import OpenSockets, RateLimiter

# how long a client refused a socket waits before it tries again (others close meanwhile)
SOCKET_RETRY_SECONDS = 5


@dataclass
class Limits:
    messages: RateLimiter
    starts: RateLimiter
    address: RateLimiter
    callbacks: RateLimiter
    sockets_per_conversation: OpenSockets
    sockets_per_address: OpenSockets

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            RateLimiter(settings.rate_messages_per_conversation, 60),
            RateLimiter(settings.rate_starts_per_address, 60),
            RateLimiter(settings.rate_messages_per_address, 60),
            RateLimiter(settings.rate_callbacks_per_conversation, 3600),
            OpenSockets(settings.sockets_per_conversation),
            OpenSockets(settings.sockets_per_address),
        )

    def check(self, limiter: RateLimiter, key: str) -> None:
        if not limiter.allow(key):
            seconds = limiter.retry_after(key)
            raise TooMany(f"too many requests; try again in {seconds} s", seconds)


LIMITS = web.AppKey("limits", Limits)


def address(request: web.Request) -> str:
    return request.remote or "unknown"


def limit_message(request: web.Request, conversation_id: str) -> None:
    limits = request.app[LIMITS]
    limits.check(limits.messages, conversation_id)
    limits.check(limits.address, address(request))


def limit_callback(request: web.Request, conversation_id: str) -> None:
    """A call-back is a message in the transcript (and a queue reload on every desk): counted
    per conversation, and with the address's messages."""
    limits = request.app[LIMITS]
    limits.check(limits.callbacks, conversation_id)
    limits.check(limits.address, address(request))
