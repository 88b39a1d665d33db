"""The held-out NLU sets (written separately from the training data) must stay at 90% or better
in every language, and the bot must answer in the language the customer writes."""

from __future__ import annotations

import asyncio
from functools import cache

import pytest

from tests.nlu.evaluate import LANGUAGES, Report, evaluate_all, print_report
from tests.rasa_model import model_path

# 0.90 in every language, English no lower than before the others came: 0.926, which was 324 of
# the 350 messages.
MIN_ACCURACY = {"en": 324 / 350, "vi": 0.90, "id": 0.90, "zh": 0.90}
MIN_LANGUAGE_ID = 0.97
MIN_ANSWER_LANGUAGE = 0.95


@cache
def reports() -> dict[str, Report]:
    model = model_path()
    found = asyncio.run(evaluate_all(model, list(LANGUAGES)))
    for report in found:
        print_report(report, model)
    return {report.language: report for report in found}


@pytest.mark.parametrize("language", LANGUAGES)
def test_heldout_intent_accuracy_holds_in_every_language(language: str) -> None:
    report = reports()[language]
    assert report.examples >= 3 * report.labels
    floor = MIN_ACCURACY[language]
    assert report.accuracy >= floor, f"{language} held-out accuracy {report.accuracy:.3f}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_language_of_messages_of_three_words_or_more_is_identified(language: str) -> None:
    report = reports()[language]
    assert report.language_examples >= 100
    assert report.language_accuracy >= MIN_LANGUAGE_ID, f"{report.language_accuracy:.3f}"
    assert report.answer_language_accuracy >= MIN_ANSWER_LANGUAGE, (
        f"{report.answer_language_accuracy:.3f}"
    )
