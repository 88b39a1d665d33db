"""The held-out NLU set (written separately from the training data) must stay at 90% or better."""

from __future__ import annotations

import asyncio

from tests.nlu.evaluate import evaluate, print_report
from tests.rasa_model import model_path

MIN_ACCURACY = 0.90


def test_heldout_intent_accuracy_is_at_least_90_percent() -> None:
    model = model_path()
    report = asyncio.run(evaluate(model))
    print_report(report, model)
    assert report.examples >= 5 * report.labels
    assert report.accuracy >= MIN_ACCURACY, f"held-out accuracy {report.accuracy:.3f}"
