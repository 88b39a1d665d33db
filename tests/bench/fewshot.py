"""Few examples per intent: `python -m tests.bench.fewshot` (part of `make bench-nlu`).

What a company that adopts the bot starts with: 5 to 15 examples per intent. The intent classifier
of config.yml (actions/nlu/linear.py, its settings as shipped) is trained through its Rasa
component interface on k examples per intent drawn from the training split (seeded; three draws
for 5 and 10, one for larger k), every test message processed by it, and config.yml's
FallbackClassifier rule applied (below `threshold`, or closer than `ambiguity_threshold` to the
runner-up: nlu_fallback). The Rasa server adds nothing to these figures; the other sections
measure the whole pipeline through it.

For each run, with the confidence temperature (as shipped) and without it (the sigmoid
calibration alone, as before): top-intent accuracy; the share of in-scope test messages that fall
back although the top intent is right; the share of answered messages that are wrong; and on
CLINC150 out-of-scope recall at the bot's threshold and at the threshold chosen on the validation
split for 96% in-scope accuracy. Also CLINC150's `small` (50 per intent) and `imbalanced` (25-100)
variants, and the training time at each size. Nothing is tuned on a test split.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from tests.bench.nlu_public import (
    DATASETS,
    DOCS,
    IN_SCOPE_TARGET,
    PLOTS,
    Example,
    banking77,
    clean,
    curve,
    replace_section,
    shipped_nlu_config,
    threshold_for,
)
from tests.nlu.cross_validate import embed_each_text_once
from tests.rasa_model import ROOT

SEEDS = (0, 1, 2)
SIZES = (5, 10, 20, 50)
BEGIN = (
    "<!-- bench-nlu fewshot: written by `make bench-nlu` (tests/bench/fewshot.py); do not edit -->"
)
END = "<!-- /bench-nlu fewshot -->"
# published 10-shot figures: Zhang et al. 2021 (CPFT), EMNLP 2021, aclanthology 2021.emnlp-main.144
PUBLISHED = {
    "banking77": {10: ("CPFT (Zhang et al., 2021)", 87.2)},
    "clinc150": {10: ("CPFT (Zhang et al., 2021)", 94.18)},
}


def clinc(variant: str) -> dict[str, list[Example]]:
    data = json.loads((DATASETS / "clinc150" / f"data_{variant}.json").read_text())
    return {name: [(clean(t), label) for t, label in rows] for name, rows in data.items()}


def draw(train: list[Example], k: int | None, seed: int) -> list[Example]:
    """k examples of each intent (all of them when k is None), drawn with `seed`."""
    if k is None:
        return list(train)
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in train:
        by_label[label].append(text)
    rng = random.Random(seed)
    return [
        (text, label)
        for label in sorted(by_label)
        for text in rng.sample(by_label[label], min(k, len(by_label[label])))
    ]


class Classifier:
    """The shipped intent classifier, trained on `examples` through its Rasa component API."""

    def __init__(self, settings: dict[str, Any], examples: list[Example]) -> None:
        from rasa.engine.graph import ExecutionContext, GraphSchema
        from rasa.engine.storage.local_model_storage import LocalModelStorage
        from rasa.engine.storage.resource import Resource
        from rasa.shared.nlu.training_data.message import Message
        from rasa.shared.nlu.training_data.training_data import TrainingData

        from actions.nlu.linear import LinearIntentClassifier

        self._message = Message
        self._dir = tempfile.TemporaryDirectory(prefix="bench-fewshot-")
        self.component = LinearIntentClassifier.create(
            {**LinearIntentClassifier.get_default_config(), **settings},
            LocalModelStorage(Path(self._dir.name)),
            Resource("linear_intent"),
            ExecutionContext(GraphSchema({}), "bench"),
        )
        started = time.monotonic()
        self.component.train(
            TrainingData(
                training_examples=[Message(data={"text": t, "intent": i}) for t, i in examples]
            )
        )
        self.train_seconds = time.monotonic() - started

    def parse(self, texts: list[str], tempered: bool) -> list[tuple[str, float, float]]:
        """(top intent, its confidence, the runner-up's) for each text."""
        temperature = self.component.temperature
        if not tempered:
            self.component.temperature = 1.0
        try:
            found = []
            for start in range(0, len(texts), 256):
                messages = [self._message(data={"text": t}) for t in texts[start : start + 256]]
                self.component.process(messages)
                for m in messages:
                    ranking = m.get("intent_ranking") or [{"name": None, "confidence": 0.0}]
                    second = ranking[1]["confidence"] if len(ranking) > 1 else 0.0
                    found.append((ranking[0]["name"], ranking[0]["confidence"], second))
            return found
        finally:
            self.component.temperature = temperature


def answers(
    parsed: list[tuple[str, float, float]], threshold: float, ambiguity: float
) -> list[str | None]:
    """What the bot does with each: the intent, or None (nlu_fallback: asks to rephrase)."""
    return [
        None if confidence < threshold or confidence - second < ambiguity else name
        for name, confidence, second in parsed
    ]


def figures(
    expected: list[str], parsed: list[tuple[str, float, float]], threshold: float, ambiguity: float
) -> dict[str, float]:
    top = [name for name, _, _ in parsed]
    said = answers(parsed, threshold, ambiguity)
    right = [t == e for t, e in zip(top, expected, strict=True)]
    answered = [s is not None for s in said]
    return {
        "accuracy": float(np.mean(right)),
        "answered_accuracy": float(np.mean([s == e for s, e in zip(said, expected, strict=True)])),
        "fallback_when_right": sum(r and not a for r, a in zip(right, answered, strict=True))
        / max(sum(right), 1),
        "wrong_when_answered": sum(a and not r for r, a in zip(right, answered, strict=True))
        / max(sum(answered), 1),
        "answered": float(np.mean(answered)),
        "median_confidence": float(np.median([c for _, c, _ in parsed])),
    }


def oos_at_validation_threshold(
    run: Classifier, data: dict[str, list[Example]], tempered: bool
) -> dict[str, Any]:
    """Out-of-scope recall and in-scope accuracy on test, at the threshold that keeps 96%
    in-scope accuracy on the validation split."""

    def scored(rows: list[Example]) -> tuple[list[str], list[str], np.ndarray]:
        parsed = run.parse([t for t, _ in rows], tempered)
        return (
            [label for _, label in rows],
            [name for name, _, _ in parsed],
            np.asarray([c for _, c, _ in parsed]),
        )

    val_expected, val_labels, val_scores = scored(data["val"])
    _, _, oos_val = scored(data["oos_val"])
    threshold = threshold_for(curve(val_expected, val_labels, val_scores, oos_val), IN_SCOPE_TARGET)
    expected, labels, scores = scored(data["test"])
    _, _, oos_scores = scored(data["oos_test"])
    if threshold is None:
        return {"threshold": None}
    right = np.asarray([e == p for e, p in zip(expected, labels, strict=True)])
    return {
        "threshold": threshold,
        "in_scope_accuracy": float((right & (scores >= threshold)).mean()),
        "oos_recall": float((oos_scores < threshold).mean()),
    }


def one_run(
    settings: dict[str, Any],
    train: list[Example],
    test: list[Example],
    oos: list[Example],
    threshold: float,
    ambiguity: float,
) -> tuple[Classifier, dict[str, Any]]:
    run = Classifier(settings, train)
    texts, expected = [t for t, _ in test], [label for _, label in test]
    result: dict[str, Any] = {
        "train_examples": len(train),
        "train_seconds": run.train_seconds,
        "temperature": run.component.temperature,
    }
    for tempered in (True, False):
        key = "tempered" if tempered else "raw"
        result[key] = figures(expected, run.parse(texts, tempered), threshold, ambiguity)
        if oos:
            said = answers(run.parse([t for t, _ in oos], tempered), threshold, ambiguity)
            result[key]["oos_recall"] = sum(s is None for s in said) / len(said)
    return run, result


def mean_of(runs: list[dict[str, Any]], *path: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in path:
            value = value[key]
        values.append(float(value))
    return statistics.fmean(values)


def bench(
    settings: dict[str, Any], threshold: float, ambiguity: float, quick: bool
) -> dict[str, Any]:
    sizes = (5, 10) if quick else SIZES
    report: dict[str, Any] = {"banking77": {}, "clinc150": {}, "clinc150_variants": {}}
    train, test = banking77()
    for k in (*sizes, None):
        seeds = SEEDS if k in (5, 10) else SEEDS[:1]
        if quick and k is None:
            continue
        runs = [
            one_run(settings, draw(train, k, s), test, [], threshold, ambiguity)[1] for s in seeds
        ]
        report["banking77"][str(k or "full")] = runs
        print(f"banking77 k={k}: {mean_of(runs, 'tempered', 'accuracy'):.3f}", flush=True)
    data = clinc("full")
    in_scope_train = data["train"]
    for k in (*sizes, None):
        seeds = SEEDS if k in (5, 10) else SEEDS[:1]
        if quick and k is None:
            continue
        runs = []
        for seed in seeds:
            run, result = one_run(
                settings,
                draw(in_scope_train, k, seed),
                data["test"],
                data["oos_test"],
                threshold,
                ambiguity,
            )
            if seed == seeds[0]:
                result["validation_threshold"] = {
                    key: oos_at_validation_threshold(run, data, tempered)
                    for key, tempered in (("tempered", True), ("raw", False))
                }
            runs.append(result)
        report["clinc150"][str(k or "full")] = runs
        print(f"clinc150 k={k}: {mean_of(runs, 'tempered', 'accuracy'):.3f}", flush=True)
    if not quick:
        for variant in ("small", "imbalanced"):
            data = clinc(variant)
            run, result = one_run(
                settings, data["train"], data["test"], data["oos_test"], threshold, ambiguity
            )
            result["validation_threshold"] = {
                key: oos_at_validation_threshold(run, data, tempered)
                for key, tempered in (("tempered", True), ("raw", False))
            }
            report["clinc150_variants"][variant] = result
            print(f"clinc150 {variant}: {result['tempered']['accuracy']:.3f}", flush=True)
    return report


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def tables(report: dict[str, Any], threshold: float) -> str:
    lines = []
    for name, title in (("banking77", "Banking77"), ("clinc150", "CLINC150 (full's splits)")):
        lines += [
            f"**{title}**, trained on k examples per intent: mean of the draws (3 for k = 5 "
            "and 10, else 1), %. *Falls back when right*: in-scope test messages whose top intent "
            f"is right but which get nlu_fallback (below {threshold} or too close to the "
            "runner-up); *wrong when answered*: answered messages whose intent is wrong.",
            "",
            "| k | draws | accuracy | falls back when right, with / without temperature | "
            "wrong when answered, with / without | "
            + (
                "out-of-scope recall at the bot's threshold, with / without | "
                if name == "clinc150"
                else ""
            )
            + "temperature | training |",
            "|---|---|---|---|---|" + ("---|" if name == "clinc150" else "") + "---|---|",
        ]
        for k, runs in report[name].items():
            row = [
                k,
                str(len(runs)),
                f"**{pct(mean_of(runs, 'tempered', 'accuracy'))}**",
                f"{pct(mean_of(runs, 'tempered', 'fallback_when_right'))} / "
                f"{pct(mean_of(runs, 'raw', 'fallback_when_right'))}",
                f"{pct(mean_of(runs, 'tempered', 'wrong_when_answered'))} / "
                f"{pct(mean_of(runs, 'raw', 'wrong_when_answered'))}",
            ]
            if name == "clinc150":
                row.append(
                    f"{pct(mean_of(runs, 'tempered', 'oos_recall'))} / "
                    f"{pct(mean_of(runs, 'raw', 'oos_recall'))}"
                )
            row += [
                f"{mean_of(runs, 'temperature'):.2f}",
                f"{mean_of(runs, 'train_seconds'):.0f} s",
            ]
            lines.append("| " + " | ".join(row) + " |")
        published = PUBLISHED.get(name, {})
        for k, (who, figure) in published.items():
            lines.append(
                f"| {k} | | {figure} ({who}, published) | | | "
                + ("| " if name == "clinc150" else "")
                + "| |"
            )
        lines.append("")
    lines += [
        "**CLINC150 out of scope at the validation-chosen threshold** (the highest threshold "
        f"keeping {IN_SCOPE_TARGET:.0%} in-scope accuracy on the validation split, applied to "
        "test): in-scope accuracy / out-of-scope recall, %, first draw. Published BERT-large on "
        "full: 96.2 / 52.3 (Larson et al., 2019).",
        "",
        "| training data | with temperature | without |",
        "|---|---|---|",
    ]

    def at(entry: dict[str, Any]) -> str:
        if entry.get("threshold") is None:
            return "never 96% on validation"
        return (
            f"{pct(entry['in_scope_accuracy'])} / {pct(entry['oos_recall'])} "
            f"(at {entry['threshold']:.3f})"
        )

    for k, runs in report["clinc150"].items():
        chosen = runs[0]["validation_threshold"]
        lines.append(f"| {k} per intent | {at(chosen['tempered'])} | {at(chosen['raw'])} |")
    for variant, result in report["clinc150_variants"].items():
        chosen = result["validation_threshold"]
        lines.append(
            f"| `{variant}` ({result['train_examples']} examples) | {at(chosen['tempered'])} | "
            f"{at(chosen['raw'])} |"
        )
    return "\n".join(lines)


def plot(report: dict[str, Any]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, marker in (("banking77", "o"), ("clinc150", "s")):
        sizes = [k for k in report[name] if k != "full"]
        x = [int(k) for k in sizes]
        for key, style in (("tempered", "-"), ("raw", ":")):
            axes[0].plot(
                x,
                [100 * mean_of(report[name][k], key, "answered_accuracy") for k in sizes],
                style,
                marker=marker,
                label=f"{name}, {'with' if key == 'tempered' else 'without'} temperature",
            )
        axes[0].plot(
            x,
            [100 * mean_of(report[name][k], "tempered", "accuracy") for k in sizes],
            "--",
            marker=marker,
            alpha=0.5,
            label=f"{name}, top intent (no fallback)",
        )
    sizes = [k for k in report["clinc150"] if k != "full"]
    for key, style in (("tempered", "-"), ("raw", ":")):
        axes[1].plot(
            [int(k) for k in sizes],
            [100 * mean_of(report["clinc150"][k], key, "oos_recall") for k in sizes],
            style,
            marker="s",
            label=f"{'with' if key == 'tempered' else 'without'} temperature",
        )
    axes[0].set(
        xscale="log",
        xlabel="examples per intent",
        ylabel="% of test messages answered right",
        title="Accuracy as the bot answers (fallback counts as wrong)",
    )
    axes[1].set(
        xscale="log",
        xlabel="examples per intent",
        ylabel="% of out-of-scope messages caught",
        title="CLINC150 out-of-scope recall at the bot's threshold",
    )
    for axis in axes:
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    PLOTS.mkdir(parents=True, exist_ok=True)
    path = PLOTS / "nlu_fewshot.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="k = 5 and 10 only")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    nlu_config, threshold = shipped_nlu_config()
    settings = next(
        dict(c) for c in nlu_config["pipeline"] if c["name"].endswith("LinearIntentClassifier")
    )
    settings.pop("name")
    ambiguity = next(
        float(c.get("ambiguity_threshold", 0.1))
        for c in nlu_config["pipeline"]
        if c["name"] == "FallbackClassifier"
    )
    embed_each_text_once()  # the draws share their texts, and every run the test sets
    started = time.monotonic()
    report = bench(settings, threshold, ambiguity, args.quick)
    report["seconds"] = time.monotonic() - started
    text = tables(report, threshold)
    print(text)
    out = ROOT / "results" / "bench_fewshot.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    if args.no_docs or args.quick:
        return
    path = plot(report)
    section = "\n".join(
        [
            BEGIN,
            "## Few examples per intent",
            "",
            f"`make bench-nlu` (this part alone: `.venv-rasa/bin/python -m tests.bench.fewshot`), "
            f"{time.strftime('%Y-%m-%d')}, {report['seconds']:.0f} s on 2 cores. config.yml's "
            "intent classifier trained through its Rasa component interface on k examples per "
            "intent of each training split (seeded draws), every test message processed by it "
            "and config.yml's fallback rule applied; the Rasa server around it is measured in the "
            "sections above. *With temperature* is the classifier as shipped "
            "(actions/nlu/calibration.py); *without* is its sigmoid calibration alone, as before. "
            "Training time is the classifier's alone; each text is embedded once per run and "
            "the draws share those embeddings, so it leaves most of the encoder's time out.",
            "",
            text,
            "",
            f"![nlu_fewshot](benchmarks/{path.name})",
            "",
            END,
        ]
    )
    replace_section(BEGIN, END, section, after=("<!-- /bench-nlu comparison -->",))
    print(f"wrote {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
