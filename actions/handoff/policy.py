"""Load and validate policy.yml.

Errors name the file, the key and what was expected, so a wrong edit is fixed in one go. The rest of
the actions use the typed `Policy` and never touch the YAML.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
REASONS = ("explicit_request", "frustration", "out_of_policy", "nlu_failure")
MESSAGES = ("out_of_policy", "bereavement", "pet_health", "urgent")
PRIORITIES = ("normal", "high")
TOP = "(top level)"
RULE_KEYS = {
    "rule",
    "why",
    "intents",
    "patterns",
    "min_amount",
    "message",
    "priority",
    "even_over_faq",
}
SIGNAL_KEYS = {
    "weight",
    "intents",
    "patterns",
    "raises_priority",
    "similarity",
    "topic_similarity",
    "caps_ratio",
    "min_letters",
}
SIGNALS = (
    "repeated_question",
    "negative_feedback",
    "misunderstood",
    "insult",
    "shouting",
    "urgency",
    "threat_to_leave",
)


class PolicyError(ValueError):
    """policy.yml is invalid; the message says where and what was expected."""


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    intents: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    min_amount: float | None = None
    message: str = "out_of_policy"
    priority: str = "normal"
    even_over_faq: bool = False


@dataclass(frozen=True)
class Signal:
    name: str
    weight: int
    intents: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    raises_priority: bool = False
    similarity: float = 0.6
    topic_similarity: float = 0.5
    caps_ratio: float = 0.7
    min_letters: int = 8


@dataclass(frozen=True)
class Policy:
    version: int
    bot_answers: tuple[str, ...]
    min_intent_confidence: float
    min_faq_confidence: float
    confident_faq: float
    consecutive_failures_for_handoff: int
    explicit_intents: tuple[str, ...]
    explicit_min_confidence: float
    explicit_offer_confidence: float
    explicit_patterns: tuple[re.Pattern[str], ...]
    explicit_names_a_person: tuple[re.Pattern[str], ...]
    explicit_not_a_request: tuple[re.Pattern[str], ...]
    rules: tuple[Rule, ...]
    threshold: int
    signals: dict[str, Signal]
    next_steps: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # last words that mark a message as cut off mid-phrase, lower case
    unfinished_endings: frozenset[str] = frozenset()
    # a sentence of a longer message names an intent to act on from this confidence (None: never)
    min_sentence_confidence: float | None = None


def _join(path: str, key: str) -> str:
    return key if path == TOP else f"{path}.{key}"


class _Reader:
    """Typed access to a YAML mapping that reports errors with their full key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str, got: Any) -> PolicyError:
        return PolicyError(f"{self.path}: '{key}': expected {expected}, got {got!r}")

    def mapping(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "a mapping", data)
        return data

    def number(self, data: dict[str, Any], key: str, path: str, lo: float, hi: float) -> float:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise self.fail(_join(path, key), f"a number from {lo} to {hi}", value)
        return float(value)

    def integer(self, data: dict[str, Any], key: str, path: str, lo: int, hi: int) -> int:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(_join(path, key), f"a whole number from {lo} to {hi}", value)
        return value

    def names(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(_join(path, key), "a list of names", value)
        return tuple(value)

    def patterns(self, data: dict[str, Any], key: str, path: str) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for i, raw in enumerate(self.names(data, key, path)):
            try:
                compiled.append(re.compile(raw, re.IGNORECASE))
            except re.error as error:
                expected = f"a valid regular expression ({error})"
                raise self.fail(f"{_join(path, key)}[{i}]", expected, raw) from None
        return tuple(compiled)

    def flag(self, data: dict[str, Any], key: str, path: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(_join(path, key), "true or false", value)
        return value

    def known_keys(self, data: dict[str, Any], path: str, allowed: set[str]) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(path, f"only the keys {', '.join(sorted(allowed))}", unknown)

    def choice(
        self, data: dict[str, Any], key: str, path: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value = data.get(key, default)
        if value not in allowed:
            raise self.fail(_join(path, key), f"one of {', '.join(allowed)}", value)
        return str(value)


def parse_policy(data: Any, path: Path) -> Policy:
    r = _Reader(path)
    top = r.mapping(data, TOP)
    version = r.integer(top, "version", TOP, 1, 10**6)
    understanding = r.mapping(top.get("understanding"), "understanding")
    explicit = r.mapping(top.get("explicit_request"), "explicit_request")
    frustration = r.mapping(top.get("frustration"), "frustration")

    raw_rules = top.get("always_human")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise r.fail("always_human", "a non-empty list of rules", raw_rules)
    rules = []
    for i, raw in enumerate(raw_rules):
        where = f"always_human[{i}]"
        item = r.mapping(raw, where)
        r.known_keys(item, where, RULE_KEYS)
        name = item.get("rule")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_]+", name):
            raise r.fail(f"{where}.rule", "a snake_case rule name", name)
        why = item.get("why")
        if not isinstance(why, str) or not why.strip():
            raise r.fail(f"{where}.why", "a sentence saying why a person must handle it", why)
        min_amount = item.get("min_amount")
        if min_amount is not None:
            min_amount = r.number(item, "min_amount", where, 0, 10**7)
        rule = Rule(
            name=name,
            why=why.strip(),
            intents=r.names(item, "intents", where),
            patterns=r.patterns(item, "patterns", where),
            min_amount=min_amount,
            message=r.choice(item, "message", where, MESSAGES, "out_of_policy"),
            priority=r.choice(item, "priority", where, PRIORITIES, "normal"),
            even_over_faq=r.flag(item, "even_over_faq", where),
        )
        if not (rule.intents or rule.patterns or rule.min_amount is not None):
            raise r.fail(where, "at least one of intents, patterns or min_amount", item)
        rules.append(rule)
    if len({rule.name for rule in rules}) != len(rules):
        raise r.fail("always_human", "unique rule names", [rule.name for rule in rules])

    raw_signals = r.mapping(frustration.get("signals"), "frustration.signals")
    unknown = sorted(set(raw_signals) - set(SIGNALS))
    if unknown:
        raise r.fail("frustration.signals", f"only {', '.join(SIGNALS)}", unknown)
    signals = {}
    for name, raw in raw_signals.items():
        where = f"frustration.signals.{name}"
        item = r.mapping(raw, where)
        r.known_keys(item, where, SIGNAL_KEYS)
        signals[name] = Signal(
            name=name,
            weight=r.integer(item, "weight", where, 0, 100),
            intents=r.names(item, "intents", where),
            patterns=r.patterns(item, "patterns", where),
            raises_priority=r.flag(item, "raises_priority", where),
            similarity=r.number({"s": item.get("similarity", 0.6)}, "s", where, 0, 1),
            topic_similarity=r.number({"t": item.get("topic_similarity", 0.5)}, "t", where, 0, 1),
            caps_ratio=r.number({"c": item.get("caps_ratio", 0.7)}, "c", where, 0, 1),
            min_letters=r.integer({"m": item.get("min_letters", 8)}, "m", where, 1, 1000),
        )

    next_steps: dict[str, dict[str, tuple[str, ...]]] = {}
    for group, entries in r.mapping(top.get("next_steps", {}), "next_steps").items():
        entries = r.mapping(entries, f"next_steps.{group}")
        next_steps[group] = {key: r.names(entries, key, f"next_steps.{group}") for key in entries}

    return Policy(
        version=version,
        bot_answers=r.names(top, "bot_answers", TOP),
        min_intent_confidence=r.number(
            understanding, "min_intent_confidence", "understanding", 0, 1
        ),
        min_faq_confidence=r.number(understanding, "min_faq_confidence", "understanding", 0, 1),
        confident_faq=r.number(understanding, "confident_faq", "understanding", 0, 1),
        consecutive_failures_for_handoff=r.integer(
            understanding, "consecutive_failures_for_handoff", "understanding", 1, 100
        ),
        explicit_intents=r.names(explicit, "intents", "explicit_request"),
        explicit_min_confidence=r.number(explicit, "min_confidence", "explicit_request", 0, 1),
        explicit_offer_confidence=r.number(explicit, "offer_confidence", "explicit_request", 0, 1),
        explicit_patterns=r.patterns(explicit, "patterns", "explicit_request"),
        explicit_names_a_person=r.patterns(explicit, "names_a_person", "explicit_request"),
        explicit_not_a_request=r.patterns(explicit, "not_a_request", "explicit_request"),
        rules=tuple(rules),
        threshold=r.integer(frustration, "threshold", "frustration", 1, 1000),
        signals=signals,
        next_steps=next_steps,
        unfinished_endings=frozenset(
            word.lower() for word in r.names(understanding, "unfinished_endings", "understanding")
        ),
        min_sentence_confidence=(
            r.number(understanding, "min_sentence_confidence", "understanding", 0, 1)
            if "min_sentence_confidence" in understanding
            else None
        ),
    )


def load_policy(path: Path | str) -> Policy:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyError(f"{path}: cannot read the policy file ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({error})") from None
    return parse_policy(data, path)


@lru_cache(maxsize=1)
def current_policy() -> Policy:
    """The policy named by POLICY_FILE (default policy.yml), loaded once per process."""
    return load_policy(os.environ.get("POLICY_FILE") or ROOT / "policy.yml")
