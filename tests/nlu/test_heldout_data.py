"""The held-out sets stay held out: no copies of training examples, enough of each label, in
every language."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from bot.designer.nlu_files import normalised
from tests.nlu.evaluate import LANGUAGES, heldout_file

ROOT = Path(__file__).resolve().parents[2]


def examples(path: Path) -> list[tuple[str, str]]:
    found = []
    for block in yaml.safe_load(path.read_text()).get("nlu", []):
        if "intent" in block:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    found.append((str(block["intent"]), normalised(line.strip()[2:])))
    return found


def training_examples() -> list[tuple[str, str]]:
    """Every language's: data/nlu/*.yml (English) and data/nlu/<code>/*.yml."""
    return [pair for path in (ROOT / "data" / "nlu").rglob("*.yml") for pair in examples(path)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_heldout_examples_are_not_copies_of_training_examples(language: str) -> None:
    training = {text for _, text in training_examples()}
    copies = sorted(text for _, text in examples(heldout_file(language)) if text in training)
    assert copies == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_training_label_has_heldout_examples(language: str) -> None:
    training_labels = {label for label, _ in training_examples()}
    counts = Counter(label for label, _ in examples(heldout_file(language)))
    least = 5 if language == "en" else 3
    assert set(counts) == training_labels
    assert {label: n for label, n in counts.items() if n < least} == {}
