"""NLU quality on public data: `python -m tests.bench.nlu_public` (or `make bench-nlu`).

Trains the NLU pipeline the bot ships with (the `pipeline` of config.yml, through `rasa train
nlu`) on Banking77 and on CLINC150, loads each model with Rasa's Agent, and parses every test
message through it one at a time, as the server would. Beside it, on the same splits, a TF-IDF
(word 1-2 and char 1-4 n-grams) linear SVM baseline. Prints, writes results/bench_nlu.json and
rewrites its own section of docs/benchmarks.md, with plots in docs/benchmarks/.

- Banking77: accuracy and macro-F1 of the classifier's top intent (as published figures are),
  and the accuracy when the bot's fallback (config.yml's FallbackClassifier) counts as wrong.
- CLINC150 (full): in-scope accuracy and out-of-scope recall (a) with an `oos` training class and
  (b) trained on the 150 in-scope intents only, out of scope being whatever the fallback catches
  at the threshold the bot uses. Also for (b): the threshold chosen on the *validation* split for
  96% in-scope accuracy, applied to the test split, and the whole trade-off curve.
- Training time (the whole `rasa train nlu`), model load time, median and p95 parse latency.

Nothing is tuned on a test split. A benchmark, not a test: it prints figures and always passes.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tests.nlu.evaluate import f1_scores
from tests.rasa_model import ROOT

DATASETS = Path(os.environ.get("SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
WORK = ROOT / "results" / "bench_nlu"
DOCS = ROOT / "docs" / "benchmarks.md"
PLOTS = ROOT / "docs" / "benchmarks"
OOS = "oos"
FALLBACK = "nlu_fallback"
IN_SCOPE_TARGET = 0.96  # the operating point chosen on CLINC150's validation split
SHIPPED = "config.yml"


def markers(config: str) -> tuple[str, str]:
    """The lines around this benchmark's section of docs/benchmarks.md: one section for the
    shipped config.yml, one for another pipeline measured with --config, for comparison."""
    name = "bench-nlu" if config == SHIPPED else "bench-nlu comparison"
    return (
        f"<!-- {name}: written by `make bench-nlu` (tests/bench/nlu_public.py); do not edit -->",
        f"<!-- /{name} -->",
    )


# ../shared/datasets/README.md: published figures on the same test sets.
PUBLISHED_BANKING77 = [
    ("BERT-large, fine-tuned", 93.66),
    ("USE+ConveRT", 93.36),
    ("TF-IDF + LinearSVC", 91.5),
]
# (system, in-scope accuracy, out-of-scope recall)
PUBLISHED_CLINC_CLASS = [("Rasa (2019 pipeline)", 91.5, 45.3), ("BERT-large", 96.9, 40.3)]
PUBLISHED_CLINC_THRESHOLD = [("Rasa (2019 pipeline)", 90.9, 31.2), ("BERT-large", 96.2, 52.3)]

Example = tuple[str, str]


# --- data --------------------------------------------------------------------------------------


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def banking77() -> tuple[list[Example], list[Example]]:
    def read(name: str) -> list[Example]:
        with (DATASETS / "banking77" / name).open(encoding="utf-8") as f:
            return [
                (clean(r["text"]), r["category"]) for r in csv.DictReader(f) if clean(r["text"])
            ]

    return read("train.csv"), read("test.csv")


def clinc150() -> dict[str, list[Example]]:
    data = json.loads((DATASETS / "clinc150" / "data_full.json").read_text())
    return {name: [(clean(t), label) for t, label in rows] for name, rows in data.items()}


def write_rasa_nlu(examples: list[Example], path: Path) -> None:
    """Rasa YAML training data, one intent block per label (no entities in these sets)."""
    by_label: dict[str, list[str]] = {}
    for text, label in examples:
        by_label.setdefault(label, []).append(text)
    lines = ['version: "3.1"', "nlu:"]
    for label in sorted(by_label):
        lines += [f"- intent: {label}", "  examples: |"]
        lines += [f"    - {text}" for text in by_label[label]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def shipped_nlu_config(path: Path = ROOT / "config.yml") -> tuple[dict[str, Any], float]:
    """The NLU part of config.yml, and the FallbackClassifier threshold it sets."""
    config = yaml.safe_load(path.read_text())
    nlu = {k: config[k] for k in ("recipe", "language", "pipeline") if k in config}
    thresholds = [
        c.get("threshold", 0.3) for c in nlu["pipeline"] if c["name"] == "FallbackClassifier"
    ]
    return nlu, float(thresholds[0]) if thresholds else 0.0


# --- the project's pipeline through Rasa -------------------------------------------------------


@dataclass
class Parsed:
    label: str  # the classifier's top intent (nlu_fallback skipped)
    confidence: float
    bot_label: str  # what the bot goes on: nlu_fallback when the fallback fired


@dataclass
class RasaRun:
    train_seconds: float
    load_seconds: float
    median_parse_ms: float
    p95_parse_ms: float
    parsed: dict[str, list[Parsed]] = field(repr=False)


def parsed_from(result: dict[str, Any]) -> Parsed:
    ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK]
    top = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    return Parsed(str(top["name"]), float(top["confidence"]), str(result["intent"]["name"]))


async def rasa_run(
    name: str, train: list[Example], parse_sets: dict[str, list[str]], config: Path
) -> RasaRun:
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    data = WORK / name / "nlu.yml"
    write_rasa_nlu(train, data)
    print(f"[{name}] rasa train nlu on {len(train)} examples ...", flush=True)
    started = time.monotonic()
    model = train_nlu(str(config), str(data), str(WORK / "models"), fixed_model_name=name)
    train_seconds = time.monotonic() - started
    if not model:
        raise RuntimeError(f"training {name} failed")
    started = time.monotonic()
    agent = Agent.load(model)
    load_seconds = time.monotonic() - started
    latencies: list[float] = []
    parsed: dict[str, list[Parsed]] = {}
    for set_name, texts in parse_sets.items():
        print(f"[{name}] parsing {len(texts)} {set_name} messages ...", flush=True)
        rows = []
        for text in texts:
            t0 = time.perf_counter()
            result = await agent.parse_message(text)
            latencies.append((time.perf_counter() - t0) * 1000)
            rows.append(parsed_from(result))
        parsed[set_name] = rows
    latencies.sort()
    return RasaRun(
        train_seconds=train_seconds,
        load_seconds=load_seconds,
        median_parse_ms=statistics.median(latencies),
        p95_parse_ms=latencies[int(0.95 * (len(latencies) - 1))],
        parsed=parsed,
    )


# --- the baseline ------------------------------------------------------------------------------


@dataclass
class Scored:
    labels: list[str]
    scores: np.ndarray  # the top decision value per message


@dataclass
class BaselineRun:
    train_seconds: float
    median_predict_ms: float
    scored: dict[str, Scored] = field(repr=False)


def baseline_run(train: list[Example], sets: dict[str, list[str]]) -> BaselineRun:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    model = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        ),
        LinearSVC(C=1.0),
    )
    started = time.monotonic()
    model.fit([t for t, _ in train], np.asarray([label for _, label in train]))
    train_seconds = time.monotonic() - started
    scored = {}
    for name, texts in sets.items():
        decision = model.decision_function(texts)
        labels = [str(model.classes_[i]) for i in decision.argmax(axis=1)]
        scored[name] = Scored(labels, decision.max(axis=1))
    sample = next(iter(sets.values()))[:300]
    latencies = []
    for text in sample:
        t0 = time.perf_counter()
        model.predict([text])
        latencies.append((time.perf_counter() - t0) * 1000)
    return BaselineRun(train_seconds, statistics.median(latencies), scored)


# --- metrics -----------------------------------------------------------------------------------


def accuracy(expected: list[str], predicted: list[str]) -> float:
    return sum(e == p for e, p in zip(expected, predicted, strict=True)) / len(expected)


def macro_f1(expected: list[str], predicted: list[str]) -> float:
    return statistics.fmean(f1_scores(list(zip(expected, predicted, strict=True))).values())


def with_threshold(labels: list[str], scores: np.ndarray, threshold: float) -> list[str]:
    return [OOS if s < threshold else label for label, s in zip(labels, scores, strict=True)]


def oos_figures(
    in_expected: list[str], in_predicted: list[str], oos_predicted: list[str]
) -> dict[str, float]:
    """In-scope accuracy (an in-scope message called out of scope is wrong) and oos recall."""
    return {
        "in_scope_accuracy": accuracy(in_expected, in_predicted),
        "oos_recall": sum(p in (OOS, FALLBACK) for p in oos_predicted) / len(oos_predicted),
    }


def curve(
    in_expected: list[str],
    in_labels: list[str],
    in_scores: np.ndarray,
    oos_scores: np.ndarray,
) -> list[tuple[float, float, float]]:
    """(threshold, in-scope accuracy, oos recall) for thresholds across the score range."""
    right = np.asarray([e == p for e, p in zip(in_expected, in_labels, strict=True)])
    points = []
    for threshold in np.quantile(np.concatenate([in_scores, oos_scores]), np.linspace(0, 1, 201)):
        points.append(
            (
                float(threshold),
                float((right & (in_scores >= threshold)).mean()),
                float((oos_scores < threshold).mean()),
            )
        )
    return points


def recall_at(points: list[tuple[float, float, float]], in_scope: float) -> float | None:
    """The best oos recall among thresholds that keep in-scope accuracy at `in_scope`."""
    recalls = [r for _, acc, r in points if acc >= in_scope]
    return max(recalls) if recalls else None


def threshold_for(points: list[tuple[float, float, float]], in_scope: float) -> float | None:
    """The highest threshold that keeps in-scope accuracy at `in_scope` (on validation data);
    None when even no threshold at all does not reach it."""
    keeping = [t for t, acc, _ in points if acc >= in_scope]
    return max(keeping) if keeping else None


# --- the benchmark -----------------------------------------------------------------------------


def bench_banking77(config: Path, bot_threshold: float) -> dict[str, Any]:
    train, test = banking77()
    texts, expected = [t for t, _ in test], [label for _, label in test]
    run = asyncio.run(rasa_run("banking77", train, {"test": texts}, config))
    ours = run.parsed["test"]
    base = baseline_run(train, {"test": texts})
    return {
        "train_examples": len(train),
        "test_examples": len(test),
        "ours": {
            "accuracy": accuracy(expected, [p.label for p in ours]),
            "macro_f1": macro_f1(expected, [p.label for p in ours]),
            "accuracy_with_fallback": accuracy(expected, [p.bot_label for p in ours]),
            "fallback_rate": sum(p.bot_label == FALLBACK for p in ours) / len(ours),
            "fallback_threshold": bot_threshold,
            "train_seconds": run.train_seconds,
            "load_seconds": run.load_seconds,
            "median_parse_ms": run.median_parse_ms,
            "p95_parse_ms": run.p95_parse_ms,
        },
        "baseline": {
            "accuracy": accuracy(expected, base.scored["test"].labels),
            "macro_f1": macro_f1(expected, base.scored["test"].labels),
            "train_seconds": base.train_seconds,
            "median_predict_ms": base.median_predict_ms,
        },
    }


def bench_clinc150(config: Path, bot_threshold: float) -> dict[str, Any]:
    data = clinc150()
    test_in, test_oos = data["test"], data["oos_test"]
    in_texts, in_expected = [t for t, _ in test_in], [label for _, label in test_in]
    oos_texts = [t for t, _ in test_oos]
    val_in, val_oos = data["val"], data["oos_val"]
    val_texts, val_expected = [t for t, _ in val_in], [label for _, label in val_in]
    sets = {"test": in_texts, "oos_test": oos_texts}
    val_sets = {"val": val_texts, "oos_val": [t for t, _ in val_oos]}
    report: dict[str, Any] = {
        "train_examples": len(data["train"]),
        "oos_train_examples": len(data["oos_train"]),
        "test_examples": len(test_in),
        "oos_test_examples": len(test_oos),
    }

    # (a) an out-of-scope training class
    run = asyncio.run(
        rasa_run("clinc150_oos_class", data["train"] + data["oos_train"], sets, config)
    )
    base = baseline_run(data["train"] + data["oos_train"], sets)
    report["oos_class"] = {
        "ours": oos_figures(
            in_expected,
            [p.label for p in run.parsed["test"]],
            [p.label for p in run.parsed["oos_test"]],
        ),
        "ours_with_fallback": oos_figures(
            in_expected,
            [p.bot_label for p in run.parsed["test"]],
            [p.bot_label for p in run.parsed["oos_test"]],
        ),
        "baseline": oos_figures(
            in_expected, base.scored["test"].labels, base.scored["oos_test"].labels
        ),
        "train_seconds": run.train_seconds,
        "load_seconds": run.load_seconds,
        "median_parse_ms": run.median_parse_ms,
        "p95_parse_ms": run.p95_parse_ms,
        "baseline_train_seconds": base.train_seconds,
    }

    # (b) in-scope intents only; out of scope is what falls below a threshold
    run = asyncio.run(rasa_run("clinc150_threshold", data["train"], sets | val_sets, config))
    base = baseline_run(data["train"], sets | val_sets)
    p = run.parsed

    def scores(rows: list[Parsed]) -> np.ndarray:
        return np.asarray([r.confidence for r in rows])

    ours_val = curve(
        val_expected, [r.label for r in p["val"]], scores(p["val"]), scores(p["oos_val"])
    )
    ours_t = threshold_for(ours_val, IN_SCOPE_TARGET)
    base_val = curve(
        val_expected,
        base.scored["val"].labels,
        base.scored["val"].scores,
        base.scored["oos_val"].scores,
    )
    base_t = threshold_for(base_val, IN_SCOPE_TARGET)

    def at(labels: list[str], s: np.ndarray, oos_s: np.ndarray, t: float | None) -> dict[str, Any]:
        if t is None:
            return {"threshold": None}
        return oos_figures(
            in_expected, with_threshold(labels, s, t), [OOS if x < t else "in" for x in oos_s]
        ) | {"threshold": t}

    in_labels = [r.label for r in p["test"]]
    ours_curve = curve(in_expected, in_labels, scores(p["test"]), scores(p["oos_test"]))
    report["threshold"] = {
        "ours_bot_threshold": oos_figures(
            in_expected, [r.bot_label for r in p["test"]], [r.bot_label for r in p["oos_test"]]
        )
        | {"threshold": bot_threshold},
        "ours_val_threshold": at(in_labels, scores(p["test"]), scores(p["oos_test"]), ours_t),
        "baseline_val_threshold": at(
            base.scored["test"].labels,
            base.scored["test"].scores,
            base.scored["oos_test"].scores,
            base_t,
        ),
        "ours_no_threshold_accuracy": accuracy(in_expected, in_labels),
        "ours_test_curve_recall_at_target": recall_at(ours_curve, IN_SCOPE_TARGET),
        "baseline_no_threshold_accuracy": accuracy(in_expected, base.scored["test"].labels),
        "ours_curve": ours_curve,
        "baseline_curve": curve(
            in_expected,
            base.scored["test"].labels,
            base.scored["test"].scores,
            base.scored["oos_test"].scores,
        ),
        "train_seconds": run.train_seconds,
        "load_seconds": run.load_seconds,
        "median_parse_ms": run.median_parse_ms,
        "p95_parse_ms": run.p95_parse_ms,
        "baseline_train_seconds": base.train_seconds,
    }
    return report


# --- output ------------------------------------------------------------------------------------


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def figures(point: dict[str, Any]) -> str:
    if "in_scope_accuracy" not in point:
        return f"never {100 * IN_SCOPE_TARGET:.0f}% on validation"
    return f"{pct(point['in_scope_accuracy'])} / {pct(point['oos_recall'])}"


def at_threshold(point: dict[str, Any]) -> str:
    return f" ({point['threshold']:.3f})" if point.get("threshold") is not None else ""


def tables(report: dict[str, Any]) -> str:
    """The figures as Markdown tables (printed, and written to docs/benchmarks.md)."""
    out: list[str] = []
    b = report.get("banking77")
    if b:
        o, base = b["ours"], b["baseline"]
        out += [
            f"**Banking77** ({b['train_examples']} training, {b['test_examples']} test examples, "
            "77 intents): accuracy of the top intent, %",
            "",
            "| system | accuracy | macro-F1 | training | load | parse, median / p95 |",
            "|---|---|---|---|---|---|",
            f"| {who(report)}{'' if suffix(report) else ' (config.yml)'} "
            f"| **{pct(o['accuracy'])}** "
            f"| {pct(o['macro_f1'])} "
            f"| {o['train_seconds']:.0f} s | {o['load_seconds']:.1f} s "
            f"| {o['median_parse_ms']:.1f} / {o['p95_parse_ms']:.1f} ms |",
            f"| TF-IDF + LinearSVC baseline, measured | {pct(base['accuracy'])} "
            f"| {pct(base['macro_f1'])} | {base['train_seconds']:.0f} s | | "
            f"{base['median_predict_ms']:.1f} ms (predict only) |",
        ]
        out += [
            f"| {name} (published) | {value:.2f} | | | | |" for name, value in PUBLISHED_BANKING77
        ]
        out += [
            "",
            f"With the bot's fallback (threshold {o['fallback_threshold']}) "
            f"{pct(o['fallback_rate'])}% of the test messages get `nlu_fallback` (the bot asks "
            "to rephrase); counting those as wrong, accuracy is "
            f"{pct(o['accuracy_with_fallback'])}%.",
            "",
        ]
    c = report.get("clinc150")
    if c:
        a, t = c["oos_class"], c["threshold"]
        out += [
            f"**CLINC150** (full: {c['train_examples']} training examples over 150 intents, "
            f"{c['test_examples']} in-scope and {c['oos_test_examples']} out-of-scope test "
            "messages): in-scope accuracy / out-of-scope recall, %",
            "",
            "| system | with an `oos` class | with a threshold |",
            "|---|---|---|",
            f"| {who(report)}, threshold the bot uses "
            f"({t['ours_bot_threshold']['threshold']}) | "
            f"{pct(a['ours_with_fallback']['in_scope_accuracy'])} / "
            f"{pct(a['ours_with_fallback']['oos_recall'])} "
            f"| **{pct(t['ours_bot_threshold']['in_scope_accuracy'])} / "
            f"{pct(t['ours_bot_threshold']['oos_recall'])}** |",
            f"| {who(report)}, `oos` class alone (no threshold) "
            f"| **{pct(a['ours']['in_scope_accuracy'])} / {pct(a['ours']['oos_recall'])}** | |",
            f"| {who(report)}, threshold chosen on the validation split for "
            f"{100 * IN_SCOPE_TARGET:.0f}% in-scope{at_threshold(t['ours_val_threshold'])} | "
            f"| {figures(t['ours_val_threshold'])} |",
            f"| TF-IDF + LinearSVC baseline (threshold on the SVM score, chosen the same "
            f"way{at_threshold(t['baseline_val_threshold'])}) "
            f"| {figures(a['baseline'])} | {figures(t['baseline_val_threshold'])} |",
        ]
        read_off = t.get("ours_test_curve_recall_at_target")
        if read_off is not None:
            out.append(
                f"| {who(report)}, read off the test curve (not a chosen operating point) "
                f"| | {100 * IN_SCOPE_TARGET:.1f} / {pct(read_off)} |"
            )
        for (name, ca, cr), (_, ta, tr) in zip(
            PUBLISHED_CLINC_CLASS, PUBLISHED_CLINC_THRESHOLD, strict=True
        ):
            out.append(f"| {name} (published) | {ca} / {cr} | {ta} / {tr} |")
        out += [
            "",
            f"In-scope accuracy with no out-of-scope detection at all: "
            f"{pct(t['ours_no_threshold_accuracy'])}% (baseline "
            f"{pct(t['baseline_no_threshold_accuracy'])}%). Training "
            f"{a['train_seconds']:.0f} s (with `oos`) and {t['train_seconds']:.0f} s (without), "
            f"baseline {a['baseline_train_seconds']:.0f} s; load {t['load_seconds']:.1f} s; parse "
            f"{t['median_parse_ms']:.1f} ms median, {t['p95_parse_ms']:.1f} ms p95.",
            "",
        ]
    return "\n".join(out)


def who(report: dict[str, Any]) -> str:
    return "this pipeline" if suffix(report) else "this bot's pipeline"


def suffix(report: dict[str, Any]) -> str:
    return "" if report.get("config", SHIPPED) == SHIPPED else "_comparison"


def plot(report: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    written = []
    b = report.get("banking77")
    if b:
        bars = [
            (who(report), 100 * b["ours"]["accuracy"], "tab:blue"),
            ("TF-IDF + LinearSVC\n(measured)", 100 * b["baseline"]["accuracy"], "tab:gray"),
        ] + [
            (name.replace(", ", ",\n"), value, "tab:orange") for name, value in PUBLISHED_BANKING77
        ]
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.barh(
            [n for n, _, _ in bars][::-1],
            [v for _, v, _ in bars][::-1],
            color=[c for *_, c in bars][::-1],
        )
        for i, (_, value, _) in enumerate(bars[::-1]):
            ax.text(value + 0.05, i, f"{value:.2f}", va="center")
        ax.set_xlim(85, 95.5)
        ax.set_xlabel("Banking77 test accuracy, %  (orange: published)")
        fig.tight_layout()
        path = PLOTS / f"nlu_banking77{suffix(report)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    c = report.get("clinc150")
    if c:
        t = c["threshold"]
        fig, ax = plt.subplots(figsize=(7, 5))
        for key, label, color in (
            ("ours_curve", who(report), "tab:blue"),
            ("baseline_curve", "TF-IDF + LinearSVC", "tab:gray"),
        ):
            points = t[key]
            ax.plot(
                [100 * r for _, _, r in points],
                [100 * a for _, a, _ in points],
                color=color,
                label=label,
            )
        bot = t["ours_bot_threshold"]
        ax.plot(
            100 * bot["oos_recall"],
            100 * bot["in_scope_accuracy"],
            "o",
            color="tab:blue",
            label=f"bot's threshold {bot['threshold']}",
        )
        val = t["ours_val_threshold"]
        if val.get("threshold") is not None:
            ax.plot(
                100 * val["oos_recall"],
                100 * val["in_scope_accuracy"],
                "s",
                color="tab:blue",
                label=f"threshold from validation ({val['threshold']:.2f})",
            )
        for (name, acc, rec), marker in zip(PUBLISHED_CLINC_THRESHOLD, ("^", "v"), strict=True):
            ax.plot(rec, acc, marker, color="tab:orange", label=f"{name}, published")
        ax.set_xlabel("out-of-scope recall, %")
        ax.set_ylabel("in-scope accuracy, %")
        ax.set_ylim(80, 100)
        ax.set_xlim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        ax.set_title("CLINC150 test, trained without an oos class: threshold trade-off")
        fig.tight_layout()
        path = PLOTS / f"nlu_clinc150_threshold{suffix(report)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def write_docs(report: dict[str, Any], plots: list[Path]) -> None:
    config = report.get("config", SHIPPED)
    begin, end = markers(config)
    title = "## NLU quality on public data"
    shown = config if config == SHIPPED else f"config.yml with the settings above ({config})"
    if config != SHIPPED:
        classifier = next(
            (c for c in report["pipeline"] if c["name"].endswith("LinearIntentClassifier")), {}
        )
        settings = ", ".join(f"`{k}: {v}`" for k, v in classifier.items() if k != "name")
        title += (
            f": {report.get('label') or 'another pipeline, for comparison'}\n\nThe classifier "
            f"with {settings or 'its default settings (word and character n-grams only)'}; "
            "measured with `.venv-rasa/bin/python -m tests.bench.nlu_public --config FILE`, FILE "
            "being config.yml with those settings."
        )
    load, load_after = (
        "/".join(f"{x:.1f}" for x in report.get(key, (0, 0, 0)))
        for key in ("load_before", "load_after")
    )
    body = [
        begin,
        title,
        "",
        f"`make bench-nlu`, {time.strftime('%Y-%m-%d')}, {report['seconds']:.0f} s in all on "
        f"{os.cpu_count()} cores. The NLU pipeline of {shown}, trained with `rasa train nlu` on "
        "each training split, every test message parsed through Rasa's Agent one at a time. "
        "Nothing was tuned on a test split. Times are wall-clock and depend on what else the "
        f"machine runs: its load average was {load} at the start and {load_after} at the end "
        "(2 means both cores busy).",
        "",
        tables(report),
    ]
    body += [f"![{p.stem}](benchmarks/{p.name})" for p in plots]
    body += ["", end]
    section = "\n".join(body)
    text = (
        DOCS.read_text()
        if DOCS.exists()
        else (
            "# Benchmarks\n\nFigures measured on this project's 2-core machine by `make bench`; "
            "each section is rewritten by the target that measures it. Benchmarks print figures; "
            "they do not pass or fail.\n"
        )
    )
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--only", choices=["banking77", "clinc150"], default=None)
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument(
        "--config", type=Path, default=ROOT / "config.yml", help="another pipeline to measure"
    )
    parser.add_argument(
        "--label", default=None, help="what the --config pipeline is (its section's title)"
    )
    args = parser.parse_args()
    # Rasa's training cache would make a second run faster than a first: measure without it.
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    os.environ.setdefault("RASA_CACHE_DIRECTORY", tempfile.mkdtemp(prefix="bench-nlu-cache-"))
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)  # else every parse logs a debug line
    nlu_config, bot_threshold = shipped_nlu_config(args.config)
    WORK.mkdir(parents=True, exist_ok=True)
    config = WORK / "config.yml"
    config.write_text(yaml.safe_dump(nlu_config, sort_keys=False))
    started = time.monotonic()
    shown = args.config.resolve()
    report: dict[str, Any] = {
        "config": str(shown.relative_to(ROOT)) if shown.is_relative_to(ROOT) else str(shown),
        "pipeline": nlu_config["pipeline"],
        "label": args.label,
        "load_before": os.getloadavg(),
    }
    if args.only in (None, "banking77"):
        report["banking77"] = bench_banking77(config, bot_threshold)
    if args.only in (None, "clinc150"):
        report["clinc150"] = bench_clinc150(config, bot_threshold)
    report["seconds"] = time.monotonic() - started
    report["load_after"] = os.getloadavg()
    print()
    print(tables(report))
    print(f"({report['seconds']:.0f} s)")
    (ROOT / "results" / "bench_nlu.json").write_text(json.dumps(report, indent=2))
    if not args.no_docs:
        write_docs(report, plot(report))
        print(f"wrote {DOCS.relative_to(ROOT)} and its plots in {PLOTS.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
