"""The gate's decision for the latest customer message: answer, clarify, or hand over (and why).

Within one message the reasons rank out_of_policy > explicit_request > frustration > nlu_failure;
across a conversation the first one to fire wins, because the conversation is handed over then.
A message that is only a greeting, thanks or goodbye, in any language, hands nothing over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

from actions.handoff.policy import Policy, Rule
from actions.handoff.signals import Fired, score_conversation, sentence_says
from actions.handoff.turns import Turn, misunderstood, small_talk, unfinished

OFFER = "utter_offer_person"
_AMOUNT = re.compile(r"\d+(?:[.,]\d{1,2})?")
_WORD_NUMBERS = {"hundred": 100, "thousand": 1000}


@dataclass(frozen=True)
class Decision:
    gate: str  # the `gate` slot value the rules act on
    reason: str | None = None
    rule: Rule | None = None
    priority: str = "normal"
    signals: tuple[Fired, ...] = ()
    score: int = 0
    consecutive_misunderstood: int = 0
    # the latest message is only a greeting, thanks or goodbye: "greet", "thank" or "goodbye"
    small_talk: str | None = None

    @property
    def hands_off(self) -> bool:
        return self.reason is not None


class _Common(TypedDict):
    """What every decision on a conversation carries, whatever the gate says."""

    signals: tuple[Fired, ...]
    score: int
    consecutive_misunderstood: int


def amount_in_dollars(value: str) -> float | None:
    """'$1,250.00' -> 1250.0, '40 dollars' -> 40.0; None when there is no number."""
    cleaned = value.replace(",", "") if re.search(r"\d,\d{3}", value) else value
    match = _AMOUNT.search(cleaned)
    if match:
        return float(match.group(0).replace(",", "."))
    for word, number in _WORD_NUMBERS.items():
        if word in value.lower():
            return float(number)
    return None


def confident_faq(turn: Turn, policy: Policy) -> bool:
    """The bot is sure this is one of its FAQ questions ("how do I get my money back?")."""
    return (
        turn.intent.startswith("faq/")
        and turn.confidence >= policy.confident_faq
        and (turn.faq_confidence or 0.0) >= policy.confident_faq
    )


def _rule_fires(rule: Rule, turn: Turn, policy: Policy) -> bool:
    # a message the bot did not understand ("the thingy for the") names no intent to act on;
    # one of its sentences may, classified alone ("... it came late again. I want a refund")
    if (
        turn.intent in rule.intents
        and turn.confidence >= policy.min_intent_confidence
        and not misunderstood(turn, policy)
    ) or sentence_says(turn, rule.intents, policy):
        return True
    if turn.shorthand:
        return False
    # Patterns and amounts back the classifier up; they do not override a confident FAQ answer,
    # unless the rule says so (a pet's death or a hacked account is never just an FAQ).
    if confident_faq(turn, policy) and not rule.even_over_faq:
        return False
    if rule.patterns.find(turn.text) is not None:
        return True
    if rule.min_amount is not None and "amount" in turn.entities:
        dollars = amount_in_dollars(turn.entities["amount"])
        return dollars is not None and dollars >= rule.min_amount
    return False


def _explicit_request(turns: list[Turn], policy: Policy) -> bool:
    turn = turns[-1]
    if turn.intent == "affirm" and len(turns) > 1 and turns[-2].answered_with == OFFER:
        return True  # "yes" to "Would you like me to bring in a person?"
    if turn.shorthand:
        return turn.intent in policy.explicit_intents
    if policy.explicit_patterns.find(turn.text) is not None:
        return True  # a clear request wins, even beside "are you a bot?"
    if policy.explicit_not_a_request.find(turn.text) is not None:
        return False
    return (
        turn.intent in policy.explicit_intents
        and turn.confidence >= policy.explicit_min_confidence
        and policy.explicit_names_a_person.find(turn.text) is not None
    )


def decide(turns: list[Turn], policy: Policy) -> Decision:
    if not turns:
        return Decision(gate="answer")
    latest = turns[-1]
    fired = tuple(score_conversation(turns, policy))
    score = sum(f.weight for f in fired)
    urgent = any(policy.signals[f.name].raises_priority for f in fired if f.name in policy.signals)
    priority = "high" if urgent else "normal"
    streak = 0
    for turn in reversed(turns):
        if not misunderstood(turn, policy):
            break
        streak += 1
    common: _Common = {"signals": fired, "score": score, "consecutive_misunderstood": streak}
    cut_off = unfinished(latest.text, policy)
    talk = None if latest.shorthand or cut_off else small_talk(latest.text, policy)
    if talk is not None:
        # "xin chào", "cảm ơn nhiều", "谢谢": whatever the classifier guessed, nothing to hand
        # over, and the bot answers the greeting, thanks or goodbye it is (data/rules/chitchat.yml)
        return Decision(talk, small_talk=talk, **common)

    for rule in policy.rules:
        if _rule_fires(rule, latest, policy):
            gate = f"handoff_{rule.message}"  # each of policy.MESSAGES has its gate and words
            if urgent and gate == "handoff_out_of_policy":
                gate = "handoff_urgent"
            rule_priority = "high" if rule.priority == "high" else priority
            if latest.shorthand:
                # a command typed by the customer may reach a person, never jump the queue
                gate, rule_priority = "handoff_out_of_policy", "normal"
            return Decision(gate, "out_of_policy", rule, rule_priority, **common)
    if _explicit_request(turns, policy):
        return Decision("handoff_explicit_request", "explicit_request", None, priority, **common)
    if score >= policy.threshold:
        gate = "handoff_urgent" if urgent else "handoff_frustration"
        return Decision(gate, "frustration", None, priority, **common)
    if streak >= policy.consecutive_failures_for_handoff:
        return Decision("handoff_nlu_failure", "nlu_failure", None, priority, **common)
    if (
        latest.intent in policy.explicit_intents
        and latest.confidence >= policy.explicit_offer_confidence
    ):
        return Decision("offer_person", **common)
    if streak or latest.intent.split("/")[0] not in policy.bot_answers:
        # not understood, or an intent only a person could act on but too weakly recognised
        return Decision("clarify", **common)
    return Decision("answer", **common)
