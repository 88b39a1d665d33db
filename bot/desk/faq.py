"""Search over the bot's own FAQ answers (domain.yml), so an agent can insert one in a click.

Read once at start-up; ranked by BM25 over the topic name and the answer text, which needs no
model and answers in microseconds for a few hundred topics.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.handoff.text import HAN, strip_tones

# a word, or one Han character (Chinese has no spaces); Vietnamese is searched without tone
# marks, so an agent's "phi giao hang" finds "phí giao hàng"
WORD = re.compile(rf"[{HAN}]|[a-z0-9]+")
PREFIX = "utter_faq/"


@dataclass(frozen=True)
class Answer:
    topic: str
    text: str
    language: str


def _words(text: str) -> list[str]:
    plain = strip_tones(text).lower()
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in WORD.findall(plain)]


def _language(variation: dict[str, Any]) -> str:
    for condition in variation.get("condition") or []:
        if isinstance(condition, dict) and condition.get("name") == "language":
            return str(condition.get("value"))
    return "en"


def load_answers(domain_file: Path) -> list[Answer]:
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    answers = []
    for name, variations in (domain.get("responses") or {}).items():
        if not str(name).startswith(PREFIX):
            continue
        for variation in variations or []:
            if isinstance(variation, dict) and isinstance(variation.get("text"), str):
                topic = str(name).removeprefix(PREFIX)
                answers.append(Answer(topic, variation["text"], _language(variation)))
    return answers


class FaqIndex:
    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self._docs = [
            Counter(_words(f"{a.topic.replace('_', ' ')} " * 2 + a.text)) for a in answers
        ]
        self._length = [sum(d.values()) for d in self._docs]
        self._average = sum(self._length) / len(self._length) if self._length else 1.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        n = len(self._docs)
        self._idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in frequency.items()}

    def search(self, query: str, language: str = "en", limit: int = 5) -> list[Answer]:
        words = set(_words(query))
        scored = []
        for i, doc in enumerate(self._docs):
            if self.answers[i].language != language:
                continue
            score = 0.0
            for word in words & doc.keys():
                tf = doc[word]
                norm = 1.2 * (0.25 + 0.75 * self._length[i] / self._average)
                score += self._idf[word] * tf * 2.2 / (tf + norm)
            if score > 0:
                scored.append((score, i))
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [self.answers[i] for _, i in scored[:limit]]
