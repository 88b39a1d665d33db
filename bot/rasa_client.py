"""Talking to Rasa's REST channel for one customer message."""

from __future__ import annotations

from typing import Any

import aiohttp


class RasaUnavailable(Exception):
    """Rasa or the action server failed or timed out; the customer must not be left hanging."""


def for_rasa(text: str) -> str:
    """What Rasa may see of a customer's text.

    Rasa treats text starting with '/' as a command (`/restart`, `/intent{"slot": ...}`) that skips
    NLU and can reset or steer the conversation. Customers never send commands: the slashes go.
    """
    return text.lstrip(" \t\r\n/")


async def send(
    http: aiohttp.ClientSession,
    conversation_id: str,
    text: str,
    metadata: dict[str, Any],
    timeout: float,
) -> list[dict[str, Any]]:
    body = {"sender": conversation_id, "message": for_rasa(text), "metadata": metadata}
    try:
        async with http.post(
            "/webhooks/rest/webhook", json=body, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            if response.status != 200:
                raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
            answers = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
    if not isinstance(answers, list):
        raise RasaUnavailable("Rasa answered something other than a list of messages")
    return [a for a in answers if isinstance(a, dict)]
