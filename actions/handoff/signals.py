"""The frustration scorer: which signals each customer message carries, and the running score.

Pure functions over plain `Turn`s and the typed policy, so every decision can be explained (each
signal names the turn and the text that fired it) and tested without Rasa.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from actions.handoff.policy import Policy, Signal
from actions.handoff.text import fold, normalise
from actions.handoff.turns import WORD, Turn, misunderstood, small_talk, unfinished

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "you",
        "your",
        "to",
        "is",
        "it",
        "of",
        "and",
        "or",
        "for",
        "on",
        "in",
        "at",
        "do",
        "does",
        "did",
        "this",
        "that",
        "with",
        "be",
        "am",
        "are",
        "was",
        "were",
        "can",
        "could",
        "would",
        "please",
        "pls",
        "hi",
        "hey",
        "hello",
    ]
)


# the CJK ideographs (and their extension A and compatibility forms)
_CHINESE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


@dataclass(frozen=True)
class Fired:
    name: str
    turn: int
    text: str
    weight: int

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "turn": self.turn, "text": self.text, "weight": self.weight}


def _words(text: str) -> set[str]:
    """Words, without tone marks ("đơn hàng" and "don hang" are one); Chinese, written without
    spaces, as its pairs of characters ("订单在哪" -> 订单, 单在, 在哪)."""
    plain = fold(text)
    words = {w for w in WORD.findall(plain) if w not in _STOPWORDS}
    for run in _CHINESE.findall(plain):
        words.update(run[i : i + 2] for i in range(len(run) - 1))
    return words


def similarity(a: str, b: str) -> float:
    """Word-set overlap (Jaccard) ignoring stop words; 0 for messages too short to compare."""
    wa, wb = _words(a), _words(b)
    if len(wa) < 3 or len(wb) < 3:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def overlap(a: str, b: str) -> float:
    """Shared words over the shorter message's words: a short question restated inside a longer
    complaint still scores high. One shared word ("order") is coincidence, not a repeat."""
    wa, wb = _words(a), _words(b)
    shared = len(wa & wb)
    if shared < 2:
        return 0.0
    return shared / min(len(wa), len(wb))


def _snippet(text: str, found: str | None = None, limit: int = 120) -> str:
    found = text if found is None else found
    return found if len(found) <= limit else found[: limit - 1] + "…"


def sentence_intents(
    sentences: Iterable[tuple[str, str | None, float]], threshold: float, policy: Policy
) -> set[str]:
    """The intents of the sentences classified at `threshold` or above, cut-off ones left out."""
    return {
        intent
        for text, intent, confidence in sentences
        if intent is not None and confidence >= threshold and not unfinished(text, policy)
    }


def sentence_says(turn: Turn, intents: tuple[str, ...], policy: Policy) -> bool:
    """One sentence of a longer message, classified alone, is one of these intents.

    "the crate came with a split side and the tray missing. I want my money back.": the story
    outweighs the request in the whole message's features; classified alone, its last sentence
    asks for a refund. A sentence cut off mid-phrase names
    nothing, and a shorthand command has no sentences to trust.
    """
    threshold = policy.min_sentence_confidence
    if threshold is None or turn.shorthand:
        return False
    return not sentence_intents(turn.sentences, threshold, policy).isdisjoint(intents)


def _shouting(signal: Signal, text: str) -> bool:
    """Mostly capitals, or the signal's patterns: runs of "!" and "?" (a Chinese keyboard's "！？"
    are read as those) and, for Chinese, where capitals say nothing, "。。。"."""
    text = normalise(text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= signal.min_letters:
        upper = sum(c.isupper() for c in letters)
        if upper / len(letters) >= signal.caps_ratio:
            return True
    return signal.patterns.find(text) is not None


def signals_for_turn(turn: Turn, earlier: list[Turn], policy: Policy) -> list[Fired]:
    """Signals carried by one message, given the messages before it."""
    if turn.shorthand or small_talk(turn.text, policy):
        return []  # "thanks!!!" and "谢谢！！" are not shouting
    fired: list[Fired] = []
    text = turn.text
    # "that didn't help" and "I already asked" are about an earlier answer; without one,
    # "my promo code is not working" is a question, not feedback.
    after_an_answer = any(before.answered_with for before in earlier)

    def fire(name: str, snippet: str, weight: int | None = None) -> None:
        signal = policy.signals.get(name)
        if signal is None:
            return
        weight = signal.weight if weight is None else weight
        if weight > 0:
            fired.append(Fired(name, turn.number, snippet, weight))

    for name, signal in policy.signals.items():
        if name == "learned":
            if turn.frustration >= signal.min_score:
                strong = turn.frustration >= signal.strong_score
                fire(
                    name,
                    _snippet(turn.frustration_text or text),
                    signal.strong_weight if strong else signal.weight,
                )
        elif name == "misunderstood":
            if misunderstood(turn, policy):
                fire(name, _snippet(text))
        elif name == "shouting":
            if _shouting(signal, text):
                fire(name, _snippet(text))
        elif name == "repeated_question":
            found = signal.patterns.find(text) if after_an_answer else None
            if found is not None:
                fire(name, _snippet(text, found))
                continue
            for before in earlier:
                same_topic = (
                    turn.intent.startswith("faq/")
                    and turn.intent == before.intent
                    and before.answered_with is not None
                    and not misunderstood(turn, policy)
                )
                if similarity(text, before.text) >= signal.similarity or (
                    same_topic and overlap(text, before.text) >= signal.topic_similarity
                ):
                    fire(name, f"turn {before.number} again: {_snippet(text)}")
                    break
        else:
            if name == "negative_feedback" and not after_an_answer:
                continue
            by_intent = (
                turn.intent in signal.intents and turn.confidence >= policy.min_intent_confidence
            ) or sentence_says(turn, signal.intents, policy)
            found = signal.patterns.find(text)
            if by_intent or found is not None:
                fire(name, _snippet(text, found))
    return fired


def score_conversation(turns: list[Turn], policy: Policy) -> list[Fired]:
    """Every signal over the conversation, in turn order."""
    fired: list[Fired] = []
    for i, turn in enumerate(turns):
        fired.extend(signals_for_turn(turn, turns[:i], policy))
    return fired
