"""Held-out NLU evaluation: `python -m tests.nlu.evaluate [--model PATH] [--language CODE]`.

Scores the full label, so an FAQ question counts as right only when the intent is `faq` *and* the
response selector picked the right topic (`faq/order_status`). Prints accuracy, macro-F1, the
confusions, and the parse latency; for each language's set (tests/nlu/test_nlu.yml for English,
test_nlu_<code>.yml for the others) also how often, among messages of 3 or more words, the
language was identified, and how often the bot would answer in the right language on a page
that says `en` (the detected language when it counts, otherwise the page's). Writes
results/nlu_heldout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.rasa_model import ROOT, model_path

DEFAULT_DATA = ROOT / "tests" / "nlu" / "test_nlu.yml"
LANGUAGES = ("en", "vi", "id", "zh")
PAGE_LANGUAGE = "en"
MIN_WORDS = 3  # language is measured on messages of 3 or more words (Han characters count one)


def heldout_file(language: str) -> Path:
    return DEFAULT_DATA if language == "en" else DEFAULT_DATA.with_name(f"test_nlu_{language}.yml")


@dataclass
class Report:
    accuracy: float
    macro_f1: float
    examples: int
    labels: int
    confusions: list[tuple[str, str, str]]  # (expected, predicted, text)
    per_label_f1: dict[str, float]
    per_label: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    median_parse_ms: float
    load_seconds: float
    language: str = "en"
    language_examples: int = 0  # messages of MIN_WORDS or more words
    language_accuracy: float = 0.0  # ... whose language was identified right
    answer_language_accuracy: float = 0.0  # ... the bot would answer in their language

    def as_dict(self) -> dict[str, object]:
        return self.__dict__ | {"confusions": [list(c) for c in self.confusions]}


def load_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(str(m.get("text")), str(m.get_full_intent())) for m in data.intent_examples]


def predicted_label(parse: dict[str, object]) -> str:
    intent = str((parse.get("intent") or {}).get("name"))  # type: ignore[union-attr]
    selector = (parse.get("response_selector") or {}).get(intent)  # type: ignore[union-attr]
    if selector:
        key = selector.get("response", {}).get("intent_response_key")
        if key:
            return str(key)
    return intent


def per_label_scores(pairs: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every expected label."""
    labels = sorted({expected for expected, _ in pairs})
    tp, fp, fn = Counter(), Counter(), Counter()
    for expected, predicted in pairs:
        if expected == predicted:
            tp[expected] += 1
        else:
            fn[expected] += 1
            fp[predicted] += 1
    scores = {}
    for label in labels:
        precision = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        recall = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = {"precision": precision, "recall": recall, "f1": f1,
                         "support": tp[label] + fn[label]}  # fmt: skip
    return scores


def f1_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    return {label: scores["f1"] for label, scores in per_label_scores(pairs).items()}


def answer_language(parse: dict[str, Any]) -> str:
    """The language the bot answers in after this message, on a page that says `en`."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == "language":
            return str(entity["value"])
    return PAGE_LANGUAGE


async def evaluate(model: Path, data: Path = DEFAULT_DATA, language: str = "en") -> Report:
    from rasa.core.agent import Agent

    started = time.monotonic()
    agent = Agent.load(str(model))
    return await evaluate_with(agent, data, language, time.monotonic() - started)


async def evaluate_with(
    agent: Any, data: Path, language: str = "en", load_seconds: float = 0.0
) -> Report:
    examples = load_examples(data)
    pairs, confusions, latencies = [], [], []
    identified, answered = [], []
    for text, expected in examples:
        t0 = time.perf_counter()
        parse = await agent.parse_message(text)
        latencies.append((time.perf_counter() - t0) * 1000)
        predicted = predicted_label(parse)
        pairs.append((expected, predicted))
        if predicted != expected:
            confusions.append((expected, predicted, text))
        detected = parse.get("language") or {}
        if detected.get("words", 0) >= MIN_WORDS:
            identified.append(detected.get("code") == language)
            answered.append(answer_language(parse) == language)
    scores = per_label_scores(pairs)
    per_label = {label: s["f1"] for label, s in scores.items()}
    return Report(
        per_label=scores,
        accuracy=sum(e == p for e, p in pairs) / len(pairs),
        macro_f1=statistics.fmean(per_label.values()),
        examples=len(pairs),
        labels=len(per_label),
        confusions=confusions,
        per_label_f1=per_label,
        median_parse_ms=statistics.median(latencies),
        load_seconds=load_seconds,
        language=language,
        language_examples=len(identified),
        language_accuracy=statistics.fmean(identified) if identified else 0.0,
        answer_language_accuracy=statistics.fmean(answered) if answered else 0.0,
    )


def print_report(report: Report, model: Path) -> None:
    print(f"model            {model.name}")
    print(f"language         {report.language}")
    print(f"examples         {report.examples} over {report.labels} labels")
    print(f"accuracy         {report.accuracy:.3f}")
    print(
        f"language ID      {report.language_accuracy:.3f} identified, "
        f"{report.answer_language_accuracy:.3f} answered in it "
        f"({report.language_examples} messages of {MIN_WORDS}+ words)"
    )
    print(f"macro-F1         {report.macro_f1:.3f}")
    print(f"model load       {report.load_seconds:.1f} s (in process)")
    print(f"parse latency    {report.median_parse_ms:.1f} ms median (in process)")
    weakest = sorted(report.per_label_f1.items(), key=lambda kv: kv[1])[:8]
    print("weakest labels   " + ", ".join(f"{k} {v:.2f}" for k, v in weakest))
    print(f"confusions ({len(report.confusions)}):")
    for expected, predicted, text in report.confusions:
        print(f"  {expected:32} -> {predicted:32} {text[:70]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--language", choices=LANGUAGES, action="append")
    args = parser.parse_args()
    model = args.model or model_path()
    reports = asyncio.run(evaluate_all(model, args.language or list(LANGUAGES)))
    for report in reports:
        print_report(report, model)
    out = ROOT / "results" / "nlu_heldout.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({r.language: r.as_dict() for r in reports}, indent=2))


async def evaluate_all(model: Path, languages: list[str]) -> list[Report]:
    """One model load, every language's held-out set."""
    from rasa.core.agent import Agent

    started = time.monotonic()
    agent = Agent.load(str(model))
    load_seconds = time.monotonic() - started
    return [
        await evaluate_with(agent, heldout_file(code), code, load_seconds) for code in languages
    ]


if __name__ == "__main__":
    main()
