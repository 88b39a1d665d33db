"""Turn Rasa tracker events into plain `Turn`s, the only input the scorer and brief builder need.

The one place that reads what Rasa's NLU made of a message (`turn_from_parse`) and says whether the
bot understood it (`misunderstood`): the gate acts on these, and the designer's inbox shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from actions.handoff.policy import Policy
from actions.handoff.text import fold

# Events after which the conversation starts afresh for scoring: a new session, a restart, or a
# person handing the conversation back to the bot.
RESET_EVENTS = {"session_started", "restart", "resume"}
WORD = re.compile(r"[a-z0-9']+")
# a letter or a digit of any script: what a greeting, thanks or goodbye leaves none of
_WORDY = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Turn:
    number: int
    text: str
    intent: (
        str  # retrieval intents in full, e.g. "faq/order_status"; "nlu_fallback" if not understood
    )
    confidence: float
    faq_confidence: float | None = None
    entities: Mapping[str, str] = field(default_factory=dict)
    answered_with: str | None = None  # the response the bot answered this turn with, if any
    # a message of two or more sentences: each one's (text, intent, confidence) as the NLU
    # classified it alone (actions/nlu/linear.py)
    sentences: tuple[tuple[str, str, float], ...] = ()
    # the learned frustration signal (actions/nlu/frustration.py): its score, and the text (the
    # message or its most frustrated sentence) that scored it
    frustration: float = 0.0
    frustration_text: str | None = None

    @property
    def shorthand(self) -> bool:
        """`/intent{...}` typed by the customer: Rasa accepts it, we never trust it for priority."""
        return self.text.lstrip().startswith("/")


def _intent(parse: Mapping[str, Any]) -> tuple[str, float, float | None]:
    intent = parse.get("intent") or {}
    name = str(intent.get("name") or "nlu_fallback")
    confidence = float(intent.get("confidence") or 0.0)
    selector = (parse.get("response_selector") or {}).get(name.split("/")[0]) or {}
    response = selector.get("response") or {}
    if name == "faq" or str(response.get("intent_response_key") or "").startswith(f"{name}/"):
        key = response.get("intent_response_key")
        if key:
            return str(key), confidence, float(response.get("confidence") or 0.0)
    return name, confidence, None


def handed_over(events: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a person owns the conversation: paused, and no person has handed it back since.

    Read from the events, not a slot: a session expiry or a restart clears slots and un-pauses
    Rasa, but only a person's `resume` ends a handoff.
    """
    owned = False
    for event in events:
        if event.get("event") == "pause":
            owned = True
        elif event.get("event") == "resume":
            owned = False
    return owned


def turn_from_parse(number: int, text: str, parse: Mapping[str, Any]) -> Turn:
    """One customer message as Rasa's NLU parsed it (not yet answered)."""
    intent, confidence, faq_confidence = _intent(parse)
    entities = {
        str(e["entity"]): str(e.get("value"))
        for e in parse.get("entities") or []
        # the message's language (actions/nlu/language.py) fills a slot; it is no fact to act on
        if e.get("entity") not in (None, "language") and e.get("value") is not None
    }
    sentences = tuple(
        (str(s.get("text") or ""), str(s["name"]), float(s.get("confidence") or 0.0))
        for s in parse.get("sentences") or []
        if isinstance(s, Mapping) and s.get("name")
    )
    learned = parse.get("frustration")
    learned = learned if isinstance(learned, Mapping) else {}
    return Turn(
        number,
        text,
        intent,
        confidence,
        faq_confidence,
        entities,
        sentences=sentences,
        frustration=float(learned.get("score") or 0.0),
        frustration_text=str(learned["text"]) if learned.get("text") else None,
    )


def unfinished(text: str, policy: Policy) -> bool:
    """The message stops mid-phrase ("same as last time but the"): sent too early or garbled.

    A classifier still gives such a fragment a label, often a confident one; the words cannot say
    what the customer meant.
    """
    words = WORD.findall(fold(text))
    return len(words) >= 2 and words[-1] in policy.unfinished_endings


def small_talk(text: str, policy: Policy) -> str | None:
    """Greet, thank or goodbye when the message is only that, in any language ("xin chào",
    "cam on shop nhiều", "makasih kak", "谢谢亲", "ok thanks, bye!"): the last one it says.

    Made only of the phrases in policy.yml (understanding.small_talk) and the words that go with
    them, whatever the classifier made of it; None when anything else is there ("thanks, but
    where is my order", "hi 71042388").
    """
    regex = policy.small_talk.regex
    if regex is None:
        return None
    plain = fold(text)
    kind, rest, last = "", [], 0
    for match in regex.finditer(plain):
        rest.append(plain[last : match.start()])
        last = match.end()
        kind = policy.small_talk.phrases.get(match.group(0)) or kind
    rest.append(plain[last:])
    return kind if kind and not _WORDY.search("".join(rest)) else None


def misunderstood(turn: Turn, policy: Policy) -> bool:
    """The bot did not understand this message well enough to answer it.

    A greeting, thanks or goodbye never counts, even when the classifier was unsure of it: the
    bot knows what to say, and two of them in a row are no reason to bring in a person. One cut
    off mid-phrase ("hi there and") is not a whole greeting.
    """
    if not turn.shorthand and unfinished(turn.text, policy):
        return True  # "hi there and": cut off, whatever it began with
    if not turn.shorthand and small_talk(turn.text, policy):
        return False
    if turn.intent == "nlu_fallback":
        return True
    return turn.faq_confidence is not None and turn.faq_confidence < policy.min_faq_confidence


def turns_from_events(events: Iterable[Mapping[str, Any]]) -> list[Turn]:
    """The customer's messages since the last reset, each with what the bot answered."""
    turns: list[Turn] = []
    for event in events:
        kind = event.get("event")
        if kind in RESET_EVENTS:
            turns.clear()
        elif kind == "user":
            text = str(event.get("text") or "")
            turns.append(turn_from_parse(len(turns) + 1, text, event.get("parse_data") or {}))
        elif kind == "bot" and turns and turns[-1].answered_with is None:
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                turns[-1] = replace(turns[-1], answered_with=str(utter))
    return turns
