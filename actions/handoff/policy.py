"""Load and validate policy.yml: the one loader, for the action server and the bot service.

Errors name the file, the key and what was expected, so a wrong edit is fixed in one go. Everything
else uses the typed `Policy` and never touches the YAML: the gate its rules, signals and
understanding thresholds, the service its desk, authority matrix and messages.

Pure (the standard library and PyYAML) and Python 3.10: the service (3.11, no Rasa) imports it too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from actions.handoff.text import fold, normalise, strip_tones

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
    "min_score",
    "strong_score",
    "strong_weight",
}
# The frustration signals, each with the words agents see for it on the desk.
SIGNALS = {
    "repeated_question": "Repeated question",
    "negative_feedback": "Said it didn't help",
    "misunderstood": "Not understood",
    "insult": "Insult",
    "shouting": "Shouting",
    "urgency": "Urgent",
    "threat_to_leave": "Threatens to leave",
    "learned": "Sounds frustrated",
}
# What the bot service itself tells customers (service_messages).
SERVICE_MESSAGES = (
    "bot_unavailable",
    "satisfaction_question",
    "satisfaction_low",
    "satisfaction_high",
    "out_of_hours",
    "no_agents_online",
    "no_speaker_online",
    "callback_saved",
    "agent_joined",
    "supervisor_joined",
    "agent_left",
    "transferred_to_agent",
    "transferred_to_team",
    "back_to_bot",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
REMEDIES = ("credit", "refund", "fee_waiver", "replacement")
ROLES_WITH_AUTHORITY = ("agent", "senior", "supervisor")
# The languages patterns and word lists may be given in; a plain list is English.
LANGUAGES = ("en", "vi", "id", "zh")
# What each kind of small talk is (understanding.small_talk), named after its intent.
SMALL_TALK = ("greet", "thank", "goodbye")
# A text the service shows customers: one string (every language), or a mapping from language
# code to text with English required; any other language falls back to English.
DEFAULT_LANGUAGE = "en"
LANGUAGE_CODE = re.compile(r"[a-z]{2}")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


class PolicyError(ValueError):
    """policy.yml is invalid; the message says where and what was expected."""


@dataclass(frozen=True)
class Patterns:
    """A rule's or signal's regular expressions, by language, all tried on every message.

    Detection can be wrong and customers mix languages, so a Vietnamese pattern is tried on an
    English message too: each must be specific enough not to fire on the others' text. Every
    message is seen as `normalise` makes it (full-width punctuation as ASCII). A Vietnamese
    pattern written without tone marks ("hoan tien") sees the message without them, so it
    matches both ways of typing it (and its lookarounds see one text); one written with them
    ("lạ", where "la" is another word) sees the message as typed.
    """

    by_language: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = ()

    def __bool__(self) -> bool:
        return any(patterns for _, patterns in self.by_language)

    def __len__(self) -> int:
        return sum(len(patterns) for _, patterns in self.by_language)

    def language(self, code: str) -> tuple[re.Pattern[str], ...]:
        return dict(self.by_language).get(code, ())

    def find(self, text: str) -> str | None:
        """The words the first matching pattern matched, as the customer wrote them (after
        `normalise`), or None."""
        seen = normalise(text)
        bare = strip_tones(seen)  # one character for each, so spans are the same
        for code, patterns in self.by_language:
            for pattern in patterns:
                toneless = code == "vi" and pattern.pattern.isascii()
                match = pattern.search(bare if toneless else seen)
                if match:
                    return seen[match.start() : match.end()]
        return None


@dataclass(frozen=True)
class SmallTalk:
    """Greetings, thanks and goodbyes (understanding.small_talk): a message made only of these
    phrases and of the words that go with them ("cảm ơn shop nhiều", "makasih kak", "谢谢亲")."""

    # phrase (lower case, without tone marks) -> greet, thank, goodbye, or "" for a word that
    # goes with them but says nothing alone ("shop", "kak", "亲")
    phrases: dict[str, str] = field(default_factory=dict)
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    intents: tuple[str, ...] = ()
    patterns: Patterns = Patterns()
    min_amount: float | None = None
    message: str = "out_of_policy"
    priority: str = "normal"
    even_over_faq: bool = False


@dataclass(frozen=True)
class Signal:
    name: str
    weight: int
    intents: tuple[str, ...] = ()
    patterns: Patterns = Patterns()
    raises_priority: bool = False
    similarity: float = 0.6
    topic_similarity: float = 0.5
    caps_ratio: float = 0.7
    min_letters: int = 8
    # the learned signal: it fires with `weight` at min_score, with strong_weight at strong_score
    min_score: float = 0.7
    strong_score: float = 0.9
    strong_weight: int = 4


@dataclass(frozen=True)
class Limit:
    per_conversation: int
    per_day: int


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str
    text: str
    # the kind of remedy whose latest amount in the conversation fills the text's {amount}
    remedy: str | None = None


@dataclass(frozen=True)
class Localized:
    """One text in several languages; `texts` always has English (DEFAULT_LANGUAGE)."""

    texts: dict[str, str]

    def text(self, language: str) -> str:
        """The text in `language` ('vi', 'zh-CN' -> 'zh'), or in English when it has none."""
        return self.texts.get(language.split("-")[0].lower()) or self.texts[DEFAULT_LANGUAGE]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)


@dataclass(frozen=True)
class DeskHours:
    timezone: ZoneInfo
    # the opening hours in words, for service_messages.out_of_hours
    describe: Localized
    # weekday (0 = Monday) -> (opens, closes), or None when closed all day
    weekly: tuple[tuple[clock, clock] | None, ...]
    closed_dates: frozenset[date]

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.timezone)
        hours = self.weekly[local.weekday()]
        if hours is None or local.date() in self.closed_dates:
            return False
        opens, closes = hours
        return opens <= local.time() < closes


@dataclass(frozen=True)
class Desk:
    hours: DeskHours
    teams: tuple[str, ...]
    default_handle_seconds: int
    wrap_ups: tuple[str, ...]
    canned_replies: tuple[CannedReply, ...]


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
    explicit_patterns: Patterns
    explicit_names_a_person: Patterns
    explicit_not_a_request: Patterns
    rules: tuple[Rule, ...]
    threshold: int
    signals: dict[str, Signal]
    # the bot service's sections: what it tells customers, by name, in each language
    messages: dict[str, Localized]
    audit_threshold_cents: int
    # role -> remedy -> limit, in cents
    authority: dict[str, dict[str, Limit]]
    desk: Desk
    next_steps: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # last words that mark a message as cut off mid-phrase, lower case
    unfinished_endings: frozenset[str] = frozenset()
    # a sentence of a longer message names an intent to act on from this confidence (None: never)
    min_sentence_confidence: float | None = None
    # greetings, thanks and goodbyes in every language: never a misunderstanding or a handoff
    small_talk: SmallTalk = SmallTalk()
    # how many times one order may be replaced (a replacement is never replaced itself)
    replacements_per_order: int = 1

    def message(self, name: str, language: str = DEFAULT_LANGUAGE) -> str:
        """service_messages[name] in `language`, or in English when it has none."""
        return self.messages[name].text(language)


def _join(path: str, key: str) -> str:
    return key if path == TOP else f"{path}.{key}"


class _Reader:
    """Typed access to a YAML mapping that reports errors with their full key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str, *got: Any) -> PolicyError:
        """`'key': expected ..., got ...` (without `got` when the value says nothing more)."""
        shown = f", got {got[0]!r}" if got else ""
        return PolicyError(f"{self.path}: '{key}': expected {expected}{shown}")

    def error(self, key: str, problem: str) -> PolicyError:
        return PolicyError(f"{self.path}: '{key}': {problem}")

    def mapping(self, data: Any, key: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "a mapping", data)
        return data

    def number(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        lo: float,
        hi: float,
        default: float | None = None,
    ) -> float:
        """`data[key]`, or `default` when the key is absent and a default is given."""
        value = data.get(key) if default is None else data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise self.fail(_join(path, key), f"a number from {lo} to {hi}", value)
        return float(value)

    def integer(
        self,
        data: dict[str, Any],
        key: str,
        path: str,
        lo: int,
        hi: int,
        default: int | None = None,
    ) -> int:
        """`data[key]`, or `default` when the key is absent and a default is given."""
        value = data.get(key) if default is None else data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(_join(path, key), f"a whole number from {lo} to {hi}", value)
        return value

    def names(self, data: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(_join(path, key), "a list of names", value)
        return tuple(value)

    def by_language(
        self, data: dict[str, Any], key: str, path: str, what: str
    ) -> list[tuple[str, str, tuple[str, ...]]]:
        """`data[key]`: a list (English) or a mapping of language to lists, as (language, its key
        for errors, the items), English first."""
        where = _join(path, key)
        value = data.get(key, [])
        if isinstance(value, list):
            listed = {"en": value}
        elif isinstance(value, dict):
            listed = value
            unknown = sorted(str(code) for code in value if code not in LANGUAGES)
            if unknown:
                raise self.fail(where, f"languages among {', '.join(LANGUAGES)}", unknown)
        else:
            expected = f"a list of {what}, or a mapping of language ({', '.join(LANGUAGES)}) to one"
            raise self.fail(where, expected, value)
        found = []
        for code in LANGUAGES:
            if code not in listed:
                continue
            items = listed[code]
            at = where if isinstance(value, list) else f"{where}.{code}"
            if not isinstance(items, list) or not all(
                isinstance(v, str) and v.strip() for v in items
            ):
                raise self.fail(at, f"a list of {what}", items)
            found.append((code, at, tuple(items)))
        return found

    def patterns(self, data: dict[str, Any], key: str, path: str) -> Patterns:
        by_language = []
        for code, at, raws in self.by_language(data, key, path, "regular expressions"):
            compiled = []
            for i, raw in enumerate(raws):
                if code == "zh" and "\\b" in raw:
                    # between two Chinese characters there is no word boundary
                    expected = "no \\b in a Chinese pattern (Chinese has no spaces: use (?<![a-z]))"
                    raise self.fail(f"{at}[{i}]", expected, raw)
                try:
                    compiled.append(re.compile(raw, re.IGNORECASE))
                except re.error as error:
                    expected = f"a valid regular expression ({error})"
                    raise self.fail(f"{at}[{i}]", expected, raw) from None
            by_language.append((code, tuple(compiled)))
        return Patterns(tuple(by_language))

    def words(self, data: dict[str, Any], key: str, path: str) -> list[tuple[str, str]]:
        """Words or phrases in any language, each with its key for errors, folded as the text
        they are compared with (`fold`: lower case, no tone marks, single spaces)."""
        found: list[tuple[str, str]] = []
        for _, at, items in self.by_language(data, key, path, "words"):
            found.extend((fold(item), f"{at}[{i}]") for i, item in enumerate(items))
        return found

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


def _authority(r: _Reader, data: Any) -> tuple[int, int, dict[str, dict[str, Limit]]]:
    """The audit threshold, the replacements one order may have, and each role's limits."""
    data = r.mapping(data, "authority")
    r.known_keys(data, "authority", {"audit_threshold_cents", "replacements_per_order", "roles"})
    threshold = _cents(r, "authority.audit_threshold_cents", data.get("audit_threshold_cents"))
    # replacement n of order X is order X-Rn: one digit keeps the order ids short
    per_order = r.integer(data, "replacements_per_order", "authority", 0, 9, default=1)
    roles = data.get("roles")
    if not isinstance(roles, dict) or set(roles) != set(ROLES_WITH_AUTHORITY):
        raise r.fail("authority.roles", f"exactly {', '.join(ROLES_WITH_AUTHORITY)}")
    matrix: dict[str, dict[str, Limit]] = {}
    for role, remedies in roles.items():
        where = f"authority.roles.{role}"
        if not isinstance(remedies, dict) or set(remedies) != set(REMEDIES):
            raise r.fail(where, f"a limit for each of {', '.join(REMEDIES)}")
        matrix[role] = {}
        for remedy, limit in remedies.items():
            key = f"{where}.{remedy}"
            if not isinstance(limit, dict) or set(limit) != {"per_conversation", "per_day"}:
                raise r.fail(key, "per_conversation and per_day")
            per_conversation = _cents(r, f"{key}.per_conversation", limit["per_conversation"])
            per_day = _cents(r, f"{key}.per_day", limit["per_day"])
            if per_conversation > per_day:
                raise r.error(key, "per_conversation is more than per_day")
            matrix[role][remedy] = Limit(per_conversation, per_day)
    return threshold, per_order, matrix


def _cents(r: _Reader, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise r.fail(key, "a whole number of cents", value)
    return value


def _text(r: _Reader, key: str, value: Any, limit: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise r.fail(key, f"a text of 1-{limit} characters")
    return value


def _localized(r: _Reader, key: str, value: Any, limit: int = 2000) -> Localized:
    """A text, or {language: text} with English required; every translation has the same
    {placeholders} as the English, so none is left unfilled in one language."""
    if isinstance(value, str):
        return Localized({DEFAULT_LANGUAGE: _text(r, key, value, limit)})
    expected = f"a text, or language codes (en required) mapping to texts of 1-{limit} characters"
    if not isinstance(value, dict) or DEFAULT_LANGUAGE not in value:
        raise r.fail(key, expected, value)
    texts: dict[str, str] = {}
    for language, text in value.items():
        where = f"{key}.{language}"
        if not isinstance(language, str) or not LANGUAGE_CODE.fullmatch(language):
            raise r.fail(where, "a two-letter language code such as en, vi, id or zh", language)
        texts[language] = _text(r, where, text, limit)
    wanted = sorted(set(PLACEHOLDER.findall(texts[DEFAULT_LANGUAGE])))
    for language, text in texts.items():
        found = sorted(set(PLACEHOLDER.findall(text)))
        if found != wanted:
            shown = ", ".join(wanted) or "no placeholders"
            raise r.fail(f"{key}.{language}", f"{shown}, as in {key}.en", found)
    return Localized(texts)


def _messages(r: _Reader, data: Any) -> dict[str, Localized]:
    messages = r.mapping(data, "service_messages")
    for name in SERVICE_MESSAGES:
        if name not in messages:
            raise r.fail(f"service_messages.{name}", "the text to send")
    return {str(k): _localized(r, f"service_messages.{k}", v) for k, v in messages.items()}


def _hours(r: _Reader, data: Any) -> DeskHours:
    if not isinstance(data, dict):
        raise r.fail("desk.hours", "timezone, describe, weekly")
    try:
        timezone = ZoneInfo(str(data.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        expected = "an IANA time zone such as America/New_York"
        raise r.fail("desk.hours.timezone", expected, data.get("timezone")) from None
    weekly_data = data.get("weekly")
    if not isinstance(weekly_data, dict) or set(weekly_data) != set(WEEKDAYS):
        raise r.fail("desk.hours.weekly", f"each of {', '.join(WEEKDAYS)}")
    weekly: list[tuple[clock, clock] | None] = []
    for day in WEEKDAYS:
        raw = str(weekly_data[day]).strip()
        if raw == "closed":
            weekly.append(None)
            continue
        match = HOURS.fullmatch(raw)
        if not match or raw[:5] >= raw[6:] or (raw[6:8] == "24" and raw[9:] != "00"):
            expected = '"HH:MM-HH:MM" (opening before closing) or "closed"'
            raise r.fail(f"desk.hours.weekly.{day}", expected, raw)
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        closes = clock.max if (h2, m2) == (24, 0) else clock(h2, m2)
        weekly.append((clock(h1, m1), closes))
    closed: set[date] = set()
    for raw in data.get("closed_dates") or []:
        try:
            closed.add(date.fromisoformat(str(raw)))
        except ValueError:
            raise r.fail("desk.hours.closed_dates", "YYYY-MM-DD dates", raw) from None
    describe = _localized(r, "desk.hours.describe", data.get("describe"), 200)
    return DeskHours(timezone, describe, tuple(weekly), frozenset(closed))


def _desk(r: _Reader, data: Any) -> Desk:
    data = r.mapping(data, "desk")
    teams = data.get("teams")
    if not isinstance(teams, list) or not teams or not all(isinstance(t, str) for t in teams):
        raise r.fail("desk.teams", "a list of team names")
    minutes = data.get("default_handle_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 240:
        raise r.fail("desk.default_handle_minutes", "1-240 minutes")
    wrap_ups = data.get("wrap_ups")
    if not isinstance(wrap_ups, list) or not all(
        isinstance(w, str) and 0 < len(w) <= 32 for w in wrap_ups
    ):
        raise r.fail("desk.wrap_ups", "a list of codes of 1-32 characters")
    canned: list[CannedReply] = []
    for number, reply in enumerate(data.get("canned_replies") or []):
        key = f"desk.canned_replies[{number}]"
        if not isinstance(reply, dict):
            raise r.fail(key, "id, title and text")
        text = _text(r, f"{key}.text", reply.get("text"))
        remedy = reply.get("remedy")
        if remedy is not None and remedy not in REMEDIES:
            raise r.fail(f"{key}.remedy", f"one of {', '.join(REMEDIES)}", remedy)
        if ("{amount}" in text) != (remedy is not None):
            raise r.error(key, "a text with {amount} names its remedy, and only such a text")
        canned.append(
            CannedReply(
                _text(r, f"{key}.id", reply.get("id"), 40),
                _text(r, f"{key}.title", reply.get("title"), 80),
                text,
                remedy,
            )
        )
    if len({c.id for c in canned}) != len(canned):
        raise r.error("desk.canned_replies", "two replies share an id")
    return Desk(
        hours=_hours(r, data.get("hours")),
        teams=tuple(teams),
        default_handle_seconds=minutes * 60,
        wrap_ups=tuple(wrap_ups),
        canned_replies=tuple(canned),
    )


def _small_talk(r: _Reader, understanding: dict[str, Any]) -> SmallTalk:
    where = "understanding.small_talk"
    data = r.mapping(understanding.get("small_talk", {}), where)
    r.known_keys(data, where, {*SMALL_TALK, "fillers"})
    phrases: dict[str, str] = {}
    for kind in (*SMALL_TALK, "fillers"):
        for phrase, at in r.words(data, kind, where):
            if phrase in phrases:
                raise r.error(at, f"{phrase!r} is listed twice")
            phrases[phrase] = "" if kind == "fillers" else kind
    if not any(phrases.values()):
        return SmallTalk()
    # the longest phrase first ("thank you" before "you"); a Latin phrase is a whole word
    # ("hi", not the "hi" of "hidden"), a Chinese one is not (no spaces around it)
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    regex = re.compile(f"(?<![a-z0-9'])(?:{alternatives})(?![a-z0-9'])")
    return SmallTalk(phrases, regex)


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
            # absent: the defaults of `Signal`
            similarity=r.number(item, "similarity", where, 0, 1, Signal.similarity),
            topic_similarity=r.number(
                item, "topic_similarity", where, 0, 1, Signal.topic_similarity
            ),
            caps_ratio=r.number(item, "caps_ratio", where, 0, 1, Signal.caps_ratio),
            min_letters=r.integer(item, "min_letters", where, 1, 1000, Signal.min_letters),
            min_score=r.number(item, "min_score", where, 0, 1, Signal.min_score),
            strong_score=r.number(item, "strong_score", where, 0, 1, Signal.strong_score),
            strong_weight=r.integer(item, "strong_weight", where, 0, 100, Signal.strong_weight),
        )
        if signals[name].strong_score < signals[name].min_score:
            raise r.fail(
                f"{where}.strong_score",
                f"min_score ({signals[name].min_score}) or more",
                signals[name].strong_score,
            )

    next_steps: dict[str, dict[str, tuple[str, ...]]] = {}
    for group, entries in r.mapping(top.get("next_steps", {}), "next_steps").items():
        entries = r.mapping(entries, f"next_steps.{group}")
        next_steps[group] = {key: r.names(entries, key, f"next_steps.{group}") for key in entries}

    audit_threshold_cents, replacements_per_order, authority = _authority(r, top.get("authority"))
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
        messages=_messages(r, top.get("service_messages")),
        audit_threshold_cents=audit_threshold_cents,
        authority=authority,
        replacements_per_order=replacements_per_order,
        desk=_desk(r, top.get("desk")),
        next_steps=next_steps,
        unfinished_endings=frozenset(
            word for word, _ in r.words(understanding, "unfinished_endings", "understanding")
        ),
        min_sentence_confidence=(
            r.number(understanding, "min_sentence_confidence", "understanding", 0, 1)
            if "min_sentence_confidence" in understanding
            else None
        ),
        small_talk=_small_talk(r, understanding),
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
