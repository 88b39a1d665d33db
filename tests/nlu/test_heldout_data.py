"""The held-out set stays held out: no copies of training examples, enough of each label."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from bot.designer.nlu_files import normalised

ROOT = Path(__file__).resolve().parents[2]


def examples(path: Path) -> list[tuple[str, str]]:
    found = []
    for block in yaml.safe_load(path.read_text()).get("nlu", []):
        if "intent" in block:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    found.append((str(block["intent"]), normalised(line.strip()[2:])))
    return found


def test_heldout_examples_are_not_copies_of_training_examples() -> None:
    training = {
        text for path in (ROOT / "data" / "nlu").glob("*.yml") for _, text in examples(path)
    }
    heldout = examples(ROOT / "tests" / "nlu" / "test_nlu.yml")
    copies = sorted(text for _, text in heldout if text in training)
    assert copies == []


def test_every_training_label_has_at_least_five_heldout_examples() -> None:
    training_labels = {
        label for path in (ROOT / "data" / "nlu").glob("*.yml") for label, _ in examples(path)
    }
    counts = Counter(label for label, _ in examples(ROOT / "tests" / "nlu" / "test_nlu.yml"))
    assert set(counts) == training_labels
    assert {label: n for label, n in counts.items() if n < 5} == {}
