"""The case brief: everything a person needs to start helping without asking the customer again.

A versioned, JSON-ready dict built from plain data (turns, the decision, slots, the policy).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from actions.handoff.decision import Decision
from actions.handoff.policy import Policy
from actions.handoff.turns import Turn

BRIEF_VERSION = 1
HANDOFF_MESSAGE = "utter_handoff_"  # what the customer is told when handed over: not an answer
MAX_STEPS = 5
# Not something the customer wanted help with, so left out of the summary.
SMALL_TALK = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "acknowledge", "bot_challenge", "nlu_fallback"}
)


# How the summary names what the customer wanted; FAQ topics are named after their key.
INTENT_LABELS = {
    "request_human": "talking to a person",
    "request_refund": "a refund",
    "request_credit": "a credit or compensation",
    "cancel_with_money": "cancelling with money back",
    "legal_threat": "legal action",
    "bereavement": "their pet's death",
    "pet_unwell": "a pet unwell after one of our products",
    "account_security": "account security",
    "complain": "a complaint",
    "complain_staff": "a complaint about staff",
    "feedback_negative": "an answer that did not help",
    "out_of_scope": "something outside the shop",
    "inform_order": "an order number",
}


# a code can't hold an apostrophe: 'pet_wont_eat' reads "pet won't eat"
_CONTRACTION = re.compile(r"\b(won|don|can|isn|aren|doesn|didn|wasn|haven|hasn)t\b")


def label(intent: str) -> str:
    """'faq/order_status' -> 'order status'; 'request_refund' -> 'a refund'."""
    found = INTENT_LABELS.get(intent, intent.split("/")[-1].replace("_", " "))
    return _CONTRACTION.sub(r"\1't", found)


def _quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= limit else f'"{text[: limit - 1]}…"'


def _handed_over(decision: Decision, policy: Policy) -> str:
    if decision.rule is not None:
        # policy.yml's sentence as written: agents read why; the rule's id is on the badge
        return f"Handed over by policy: {decision.rule.why.rstrip('.')}"
    if decision.reason == "explicit_request":
        return "Handed over because the customer asked for a person"
    if decision.reason == "frustration":
        names = ", ".join(sorted({f"{f.name} (turn {f.turn})" for f in decision.signals}))
        return (
            f"Handed over because frustration score {decision.score} reached "
            f"{policy.threshold}: {names}"
        )
    if decision.reason == "nlu_failure":
        return (
            f"Handed over because {decision.consecutive_misunderstood} messages in a row were "
            "not understood"
        )
    return f"Handed over because {decision.reason}"


def summarize(
    turns: list[Turn], decision: Decision, entities: Mapping[str, list[str]], policy: Policy
) -> str:
    wanted = []
    for turn in turns:
        name = label(turn.intent)
        if turn.intent not in SMALL_TALK and name not in wanted and not turn.shorthand:
            wanted.append(name)
    answered = [
        label(t.answered_with) for t in turns if t.answered_with and "faq/" in t.answered_with
    ]
    parts = [f"Customer wrote {len(turns)} message{'s' * (len(turns) != 1)}"]
    if wanted:
        parts[0] += f" about: {', '.join(wanted)}"
    if answered:
        parts.append(f"Bot already answered: {', '.join(dict.fromkeys(answered))}")
    if entities.get("order_id"):
        orders = entities["order_id"]
        parts.append(f"Order{'s' * (len(orders) > 1)} {', '.join(orders)}")
    if entities.get("amount"):
        parts.append(f"Amount mentioned: {', '.join(entities['amount'])}")
    parts.append(_handed_over(decision, policy))
    parts.append(f"Last message: {_quote(turns[-1].text)}" if turns else "No messages")
    return ". ".join(parts) + "."


def next_steps(
    turns: list[Turn], decision: Decision, entities: Mapping[str, list[str]], policy: Policy
) -> list[str]:
    steps = policy.next_steps
    keys: list[tuple[str, str]] = []
    if decision.rule is not None:
        keys.append(("rule", decision.rule.name))
    elif decision.reason:
        keys.append(("reason", decision.reason))
    keys += [("signal", f.name) for f in decision.signals]
    keys += [("topic", t.intent) for t in reversed(turns)]
    out: list[str] = []
    for group, key in keys:
        for step in steps.get(group, {}).get(key, ()):
            text = step
            for name in ("order_id", "amount"):
                if entities.get(name):
                    text = text.replace("{" + name + "}", ", ".join(entities[name]))
            text = text.replace("order {order_id}", "the order").replace("{order_id}", "the order")
            text = text.replace("{amount}", "the amount")
            if text not in out:
                out.append(text)
    return out[:MAX_STEPS]


def build_brief(
    turns: list[Turn],
    decision: Decision,
    slots: Mapping[str, Any],
    policy: Policy,
) -> dict[str, Any]:
    # every value the customer gave (two order numbers are both worth a look), never from
    # shorthand they typed
    entities: dict[str, list[str]] = {}
    for turn in turns:
        if not turn.shorthand:
            for name, value in turn.entities.items():
                if value not in entities.setdefault(name, []):
                    entities[name].append(value)
    return {
        "version": BRIEF_VERSION,
        "policy_version": policy.version,
        "reason": decision.reason,
        "rule": decision.rule.name if decision.rule else None,
        "priority": decision.priority,
        "language": str(slots.get("language") or "en"),
        "summary": summarize(turns, decision, entities, policy),
        "signals": [f.as_dict() for f in decision.signals],
        "frustration_score": decision.score,
        "threshold": policy.threshold,
        "consecutive_misunderstood": decision.consecutive_misunderstood,
        "intents": [
            {"turn": t.number, "name": t.intent, "confidence": round(t.confidence, 3)}
            | (
                {"faq_confidence": round(t.faq_confidence, 3)}
                if t.faq_confidence is not None
                else {}
            )
            for t in turns
        ],
        "answered": [
            {"turn": t.number, "response": t.answered_with}
            for t in turns
            if t.answered_with and not t.answered_with.startswith(HANDOFF_MESSAGE)
        ],
        "entities": entities,
        # slots can carry over from older sessions or be forged by shorthand: only the language
        "slots": {"language": str(slots.get("language") or "en")},
        "shorthand_used": any(t.shorthand for t in turns),
        "suggested_next_steps": next_steps(turns, decision, entities, policy),
    }
