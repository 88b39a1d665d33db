"""Talking to the Rasa server: the REST channel for customers' messages, and its token-protected
API for trackers, actions and models."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.errors import BotUnavailable
from bot.rasa.auth import authorization


class RasaUnavailable(BotUnavailable):
    """Rasa or the action server failed or timed out; the customer must not be left hanging.
    `kind` says which for the operators' metrics: timeout, busy, error, no_answer, looping,
    actions_down."""

    def __init__(self, message: str, *, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


def for_rasa(text: str) -> str:
    """What Rasa may see of a customer's text.

    Rasa treats text starting with '/' as a command (`/restart`, `/intent{"slot": ...}`) that skips
    NLU and can reset or steer the conversation. Customers never send commands: the slashes go.
    Rasa looks for the '/' only after str.strip() (UserMessage, then the regex message handler),
    which removes every Unicode whitespace (no-break space, form feed, ideographic space, ...),
    so leading whitespace and slashes go together, until neither is left.
    """
    while (stripped := text.lstrip().lstrip("/")) != text:
        text = stripped
    return text


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
    except TimeoutError as error:
        raise RasaUnavailable(f"no answer within {timeout:.1f} s", kind="timeout") from error
    except (aiohttp.ClientError, ValueError) as error:
        raise RasaUnavailable(f"{type(error).__name__}: {error}") from error
    if not isinstance(answers, list):
        raise RasaUnavailable("Rasa answered something other than a list of messages")
    return [a for a in answers if isinstance(a, dict)]


async def _admin(
    http: aiohttp.ClientSession,
    jwt_secret: str,
    method: str,
    path: str,
    body: Any,
    timeout: float,
    expect: int = 200,
) -> Any:
    """One call to Rasa's protected API; its JSON answer (None for a 204)."""
    try:
        async with http.request(
            method,
            path,
            json=body,
            headers=authorization(jwt_secret),
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            if response.status != expect:
                raise RasaUnavailable(f"Rasa answered HTTP {response.status} to {path}")
            return None if response.status == 204 else await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise RasaUnavailable(f"{type(error).__name__}: {error}") from error


async def status(http: aiohttp.ClientSession, jwt_secret: str, timeout: float) -> dict[str, Any]:
    """What Rasa is serving: `model_file`, and `model_id` once a model is loaded."""
    body = await _admin(http, jwt_secret, "GET", "/status", None, timeout)
    return body if isinstance(body, dict) else {}


async def load_model(
    http: aiohttp.ClientSession, jwt_secret: str, model_file: str, timeout: float
) -> None:
    """Have Rasa answer with this model from now on (it keeps answering while it loads)."""
    body = {"model_file": model_file}
    await _admin(http, jwt_secret, "PUT", "/model", body, timeout, expect=204)


async def resume(
    http: aiohttp.ClientSession,
    jwt_secret: str,
    conversation_id: str,
    slots: dict[str, Any],
    timeout: float,
) -> None:
    """The bot takes the conversation back from a person: lift the pause, tell it as slots what the
    person did, and leave it listening.

    `resume` lifts the pause that action_handoff set (a pause nobody lifts would also keep the
    actions' `handed_over()` true). The trailing `action_listen` matters as much: a paused tracker
    stops predicting right after action_handoff, so without it the customer's next message would
    follow action_handoff instead of action_listen. No rule matches there, and Rasa predicts
    fallback after fallback until its circuit breaker trips (ten actions, no answer). The service
    calls this once per return to the bot, so the pause is lifted exactly once; on a tracker that
    was never paused (a bot_unavailable handoff) the same events are harmless.
    """
    events = (
        [{"event": "resume"}]
        + [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        + [{"event": "action", "name": "action_listen"}]
    )
    path = f"/conversations/{conversation_id}/tracker/events"
    await _admin(http, jwt_secret, "POST", path, events, timeout)


async def execute(
    http: aiohttp.ClientSession, jwt_secret: str, conversation_id: str, action: str, timeout: float
) -> list[dict[str, Any]]:
    """Run one of the bot's actions in this conversation now; returns what it says."""
    path = f"/conversations/{conversation_id}/execute"
    body = await _admin(http, jwt_secret, "POST", path, {"name": action}, timeout)
    messages = body.get("messages") if isinstance(body, dict) else None
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
