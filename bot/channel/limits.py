"""Flood limits per conversation and per address (bot/web/ratelimit.py counts), for the
customer's HTTP views and websocket alike."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.errors import TooMany
from bot.settings import Settings
from bot.web.ratelimit import RateLimiter


@dataclass
class Limits:
    messages: RateLimiter
    starts: RateLimiter
    address: RateLimiter

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            RateLimiter(settings.rate_messages_per_conversation, 60),
            RateLimiter(settings.rate_starts_per_address, 60),
            RateLimiter(settings.rate_messages_per_address, 60),
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
