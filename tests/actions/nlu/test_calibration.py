"""Confidence that keeps its meaning with few examples per label (actions/nlu/calibration.py)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from actions.nlu.calibration import answered_wrong, fit_temperature, temper
from tests.actions.nlu.test_linear import parse, train_on


def test_a_temperature_keeps_each_rows_order_and_an_empty_row_empty() -> None:
    rows = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.0, 0.0, 0.0]])
    for temperature in (0.3, 1.0, 2.5):
        tempered = temper(rows, temperature)
        assert (tempered[:2].argmax(axis=1) == rows[:2].argmax(axis=1)).all()
        assert np.allclose(tempered[:2].sum(axis=1), 1.0)
        assert (tempered[2] == 0).all()
    assert temper(rows, 0.3)[0, 0] > 0.5 > temper(rows, 2.5)[0, 0]


def test_the_fitted_temperature_sharpens_rows_that_are_too_flat() -> None:
    # rows right 90% of the time whose top share is only about 0.2: the likeliest temperature
    # sharpens them, and afterwards the mean top share is near the share that is right
    rng = np.random.default_rng(0)
    labels, count = 20, 2000
    truth = rng.integers(0, labels, count)
    top = np.where(rng.random(count) < 0.9, truth, (truth + 1) % labels)
    rows = np.full((count, labels), 1.0)
    rows[np.arange(count), top] = 5.0
    rows /= rows.sum(axis=1, keepdims=True)
    temperature = fit_temperature(rows, truth)
    assert temperature < 1
    assert temper(rows, temperature).max(axis=1).mean() == pytest.approx(0.9, abs=0.03)
    assert answered_wrong(rows, truth, 0.3) == (0.0, 0.0)  # nothing reaches 0.3 untempered
    answered, wrong = answered_wrong(temper(rows, temperature), truth, 0.3)
    assert answered == 1.0 and wrong == pytest.approx(0.1, abs=0.02)


# Made-up words: 60 labels, each example its label's word among six everyday ones, so labels
# share most of their words as real intents do.
FILLERS = [
    "please",
    "could",
    "you",
    "help",
    "me",
    "with",
    "my",
    "order",
    "account",
    "today",
    "again",
    "about",
    "the",
    "this",
    "it",
    "know",
    "want",
    "need",
    "tell",
    "how",
    "what",
    "when",
    "where",
    "why",
    "can",
    "is",
    "was",
]


def made_up(seed: int) -> tuple[dict[str, list[str]], dict[str, str]]:
    rng = random.Random(seed)
    words = [
        f"{rng.choice('bcdfgklmnprstvz')}{rng.choice('aeiou')}{rng.choice('bdgklmnprst')}o"
        for _ in range(60)
    ]

    def sentence(word: str) -> str:
        chosen = rng.sample(FILLERS, 6)
        chosen.insert(rng.randrange(7), word)
        return " ".join(chosen)

    examples = {f"label_{i}": [sentence(w) for _ in range(5)] for i, w in enumerate(words)}
    # asked with the label's word misspelt (its last letter doubled), as customers write
    asked = {f"label_{i}": sentence(w + w[-1]) for i, w in enumerate(words)}
    return examples, asked


def test_with_five_examples_per_label_the_bot_is_sure_when_it_is_right(tmp_path: Path) -> None:
    # 60 labels of 5 examples each, what a new bot starts with: the sigmoid calibration alone
    # leaves most right answers below the fallback threshold (0.3); with the temperature at
    # least 9 in 10 reach it
    examples, asked = made_up(7)

    def right_confidences(**config: object) -> list[float]:
        classifier = train_on(tmp_path / str(config), examples, **config)
        found = []
        for label, text in asked.items():
            intent = parse(classifier, text).get("intent")
            if intent["name"] == label:
                found.append(intent["confidence"])
        assert len(found) >= 0.8 * len(asked)
        return found

    raw = right_confidences(temperature=False)
    tempered = right_confidences(temperature=True)
    assert sum(c >= 0.3 for c in raw) <= len(raw) / 2
    assert sum(c >= 0.3 for c in tempered) >= 0.9 * len(tempered)
