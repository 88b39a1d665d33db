"""action_session_start: carry slots over and take the customer's language from the channel."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

DEFAULT_LANGUAGE = "en"
# Never carried into a new session: a handoff belongs to the session it happened in.
NOT_CARRIED = {
    "gate",
    "handoff_reason",
    "handoff_outcome",
    "remedy_summary",
    "session_started_metadata",
    "requested_slot",
}


def supported_languages(domain: dict[str, Any]) -> tuple[str, ...]:
    """The `language` slot's values in domain.yml: adding a language is data, not code."""
    slot = (domain.get("slots") or {}).get("language") or {}
    return tuple(str(v) for v in slot.get("values") or ()) or (DEFAULT_LANGUAGE,)


def language_from(metadata: Any, supported: tuple[str, ...] = (DEFAULT_LANGUAGE,)) -> str:
    """The language the bot service sent ('en', 'en-US' -> 'en') if supported, or the default."""
    if isinstance(metadata, dict):
        raw = str(metadata.get("language") or "").strip().lower()
        code = raw.split("-")[0].split("_")[0]
        if code in supported:
            return code
    return DEFAULT_LANGUAGE


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name not in NOT_CARRIED and name != "language"
        ]
        metadata = tracker.get_slot("session_started_metadata")
        language = language_from(metadata, supported_languages(domain))
        return [
            SessionStarted(),
            *carried,
            SlotSet("language", language),
            ActionExecuted("action_listen"),
        ]
