"""Builders for tracker events as Rasa sends them to the action server."""

from __future__ import annotations

from typing import Any


def user(
    text: str,
    intent: str,
    confidence: float = 0.95,
    faq_confidence: float = 0.9,
    entities: dict[str, str] | None = None,
    sentences: list[tuple[str, str, float]] | None = None,
    frustration: tuple[float, str] | None = None,
) -> dict[str, Any]:
    """`sentences`: (text, intent, confidence) of each sentence, as the NLU classifies a message
    of two or more alone (actions/nlu/linear.py); `frustration`: the learned signal's score and
    the text that scored it (actions/nlu/frustration.py)."""
    base, _, topic = intent.partition("/")
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": base, "confidence": confidence},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    if sentences:
        parse["sentences"] = [
            {"text": text, "name": name, "confidence": confidence}
            for text, name, confidence in sentences
        ]
    if frustration:
        parse["frustration"] = {"score": frustration[0], "text": frustration[1]}
    if topic:
        parse["response_selector"] = {
            base: {
                "response": {
                    "intent_response_key": intent,
                    "confidence": faq_confidence,
                    "utter_action": f"utter_{intent}",
                }
            }
        }
    return {"event": "user", "text": text, "parse_data": parse}


def bot(utter_action: str, text: str = "…") -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": utter_action}}


def answered(text: str, intent: str, **kwargs: Any) -> list[dict[str, Any]]:
    """A customer message the bot answered with its usual response."""
    return [user(text, intent, **kwargs), bot(f"utter_{intent}")]
