"""NLU quality on public data: `python -m tests.bench.nlu_public` (or `make bench-nlu`).

Trains the NLU pipeline the bot ships with (the `pipeline` of config.yml, through `rasa train
nlu`) on Banking77, CLINC150 and xSID (and PhoATIS when given), loads each model with Rasa's
Agent, and parses every test message through it one at a time, as the server would. Beside it,
on the same splits, a TF-IDF (word 1-2 and char 1-4 n-grams) linear SVM baseline. Prints, writes
results/bench_nlu.json and rewrites its own sections of docs/benchmarks.md, with plots in
docs/benchmarks/.

- Banking77: accuracy and macro-F1 of the classifier's top intent (as published figures are),
  and the accuracy when the bot's fallback (config.yml's FallbackClassifier) counts as wrong.
- CLINC150 (full): in-scope accuracy and out-of-scope recall (a) with an `oos` training class and
  (b) trained on the 150 in-scope intents only, out of scope being whatever the fallback catches
  at the threshold the bot uses. Also for (b): the threshold chosen on the *validation* split for
  96% in-scope accuracy, applied to the test split, and the whole trade-off curve.
- xSID 0.7 (en, id, zh; `--only xsid` runs this part alone): per language, trained on its
  `valid` split and tested on its `test` split; the English model also tested on the id and zh
  test splits (cross-lingual), once more with the known-word gate off (`min_known_share: 0`), as
  the gate refuses text with no word seen in training; and one model trained on all three valid
  splits. Intent accuracy, and as the bot answers (fallback counted as wrong). Its own section of
  docs/benchmarks.md.
- PhoATIS (vi, syllable level) when `--phoatis DIR` or PHOATIS_DIR names its folder: trained on
  train, tested on test. It may not be redistributed: it is read from there, never copied here.
- Training time (the whole `rasa train nlu`), model load time, median and p95 parse latency.

Nothing is tuned on a test split. A benchmark, not a test: it prints figures and always passes.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import csv
import json
import logging
import os
import re
import statistics
import tempfile
import time
from collections import Counter
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


XSID_LANGUAGES = ("en", "id", "zh")
# The classifier calibrates its scores with 3 internal folds, which needs 3 examples of each label;
# with fewer it would go uncalibrated (and so would the fallback threshold the bot relies on).
MIN_PER_LABEL = 3


def xsid(language: str, split: str) -> list[Example]:
    """One xSID 0.7 file: each sentence is headed by `# text = ...` and `# intent = ...` lines
    (the id and zh files also carry `# id` and `# text-en`), then one token per line."""
    examples: list[Example] = []
    text: str | None = None
    path = DATASETS / "xsid" / f"{language}.{split}.conll"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text = "):
            text = clean(line.removeprefix("# text = "))
        elif line.startswith("# intent = "):
            if not text:
                raise ValueError(f"{path}: an intent without a text before it")
            examples.append((text, line.removeprefix("# intent = ").strip()))
            text = None
    return examples


def phoatis(root: Path, split: str) -> list[Example]:
    """PhoATIS (Dao et al. 2021), syllable-level (the text as typed, not word-segmented):
    `{train,dev,test}/seq.in`, one utterance a line, and `label`, its intent. `root` is the
    `PhoATIS/` folder of VinAIResearch/JointIDSF or its `syllable-level/` folder."""
    base = root / "syllable-level" if (root / "syllable-level").is_dir() else root
    texts = (base / split / "seq.in").read_text(encoding="utf-8").splitlines()
    labels = (base / split / "label").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels):
        raise ValueError(f"{base / split}: {len(texts)} texts but {len(labels)} labels")
    return [(clean(t), label.strip()) for t, label in zip(texts, labels, strict=True) if clean(t)]


def rasa_label(label: str) -> str:
    """A label Rasa takes as a plain intent: `alarm/set_alarm` would be a retrieval intent
    (intent `alarm`, topic `set_alarm`), so `/` and any other non-word characters become `__`."""
    return re.sub(r"\W+", "__", label)


def trainable(examples: list[Example]) -> tuple[list[Example], dict[str, int]]:
    """The examples of labels with at least MIN_PER_LABEL of them, and the labels left out."""
    counts = Counter(label for _, label in examples)
    kept = [(t, label) for t, label in examples if counts[label] >= MIN_PER_LABEL]
    return kept, {label: n for label, n in sorted(counts.items()) if n < MIN_PER_LABEL}


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


def without_known_word_gate(nlu_config: dict[str, Any]) -> dict[str, Any] | None:
    """The same pipeline with the classifier's min_known_share at 0, or None when it has none.

    The gate gives every label probability 0 below that share of words seen in training: right
    for the bot, but a model trained on English has seen no Chinese word at all, so with it the
    cross-lingual figures would measure the gate, not what the sentence embedding transfers.
    """
    config = copy.deepcopy(nlu_config)
    gated = False
    for component in config["pipeline"]:
        if component["name"].endswith("LinearIntentClassifier"):
            gated = float(component.get("min_known_share", 0.0)) > 0
            component["min_known_share"] = 0.0
    return config if gated else None


def understood(p: Parsed) -> str:
    """The classifier's top intent, or nlu_fallback when it understood nothing (probability 0
    for every label: the known-word gate, whose ranking order then means nothing)."""
    return p.label if p.confidence > 0 else FALLBACK


def scored_set(expected: list[str], ours: list[Parsed], baseline: list[str]) -> dict[str, Any]:
    return {
        "accuracy": accuracy(expected, [understood(p) for p in ours]),
        "accuracy_with_fallback": accuracy(expected, [p.bot_label for p in ours]),
        "fallback_rate": sum(p.bot_label == FALLBACK for p in ours) / len(ours),
        "baseline_accuracy": accuracy(expected, baseline),
    }


_EMBEDDED: dict[str, np.ndarray] = {}


def embedded(texts: list[str]) -> np.ndarray:
    """The e5 embeddings of `texts` (each text embedded once per run)."""
    from actions.nlu.e5 import embed

    missing = [t for t in dict.fromkeys(texts) if t not in _EMBEDDED]
    if missing:
        _EMBEDDED.update(zip(missing, embed(missing), strict=True))
    return np.vstack([_EMBEDDED[t] for t in texts])


def e5_classifier(nlu_config: dict[str, Any]) -> dict[str, Any] | None:
    """The LinearIntentClassifier's settings when it uses the e5 sentence embedding."""
    for component in nlu_config["pipeline"]:
        if (
            component["name"].endswith("LinearIntentClassifier")
            and component.get("sentence_embeddings")
            and component.get("sentence_encoder") == "e5"
        ):
            return dict(component)
    return None


def embedding_alone(
    classifier: dict[str, Any], train: list[Example], sets: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The classifier's SVM (its C, balanced classes) on its e5 block alone (the embedding times
    `embedding_weight`), without the n-grams: what the embedding carries by itself, cross-lingual
    transfer in particular. scikit-learn, outside Rasa; the top decision value, uncalibrated."""
    from sklearn.svm import LinearSVC

    weight = np.float32(classifier.get("embedding_weight", 2.0))
    svm = LinearSVC(C=float(classifier.get("C", 1.0)), class_weight="balanced", random_state=42)
    svm.fit(embedded([t for t, _ in train]) * weight, np.asarray([label for _, label in train]))
    return {
        key: [str(x) for x in svm.predict(embedded(texts) * weight)] for key, texts in sets.items()
    }


def intent_run(
    name: str,
    train_raw: list[Example],
    tests: dict[str, list[Example]],
    config: Path,
    with_baseline: bool = True,
    e5: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the pipeline (and the baseline) on `train_raw`, score each test set: top-intent
    accuracy, the same counting the bot's fallback as wrong, and the share that fell back."""
    kept, dropped = trainable(train_raw)
    train = [(t, rasa_label(label)) for t, label in kept]
    labels = {label for _, label in train}
    sets = {key: [t for t, _ in rows] for key, rows in tests.items()}
    run = asyncio.run(rasa_run(name, train, sets, config))
    base = baseline_run(train, sets) if with_baseline else None
    alone = embedding_alone(e5, train, sets) if e5 else None
    scores: dict[str, Any] = {}
    for key, rows in tests.items():
        expected = [rasa_label(label) for _, label in rows]
        baseline = base.scored[key].labels if base else [""] * len(rows)
        scores[key] = scored_set(expected, run.parsed[key], baseline) | {
            "test_examples": len(rows),
            # the share of test messages whose label is among those trained on
            "reachable": sum(e in labels for e in expected) / len(expected),
        }
        if not base:
            del scores[key]["baseline_accuracy"]
        if alone:
            scores[key]["embedding_alone_accuracy"] = accuracy(expected, alone[key])
    return {
        "train_examples": len(train),
        "dropped": dropped,
        "labels": len(labels),
        "test": scores,
        "train_seconds": run.train_seconds,
        "load_seconds": run.load_seconds,
        "median_parse_ms": run.median_parse_ms,
        "p95_parse_ms": run.p95_parse_ms,
        "baseline_train_seconds": base.train_seconds if base else None,
    }


def bench_xsid(config: Path, ungated: Path | None, e5: dict[str, Any] | None) -> dict[str, Any]:
    """xSID: per language, trained on its valid split and tested on its test split; the English
    model also on the id and zh test splits (cross-lingual), with the known-word gate as shipped
    and without it; and one model trained on the three valid splits together."""
    started, load_before = time.monotonic(), os.getloadavg()
    tests = {lang: xsid(lang, "test") for lang in XSID_LANGUAGES}
    valid = {lang: xsid(lang, "valid") for lang in XSID_LANGUAGES}
    runs: dict[str, Any] = {}
    for lang in XSID_LANGUAGES:
        # the English model parses every language's test set: cross-lingual for id and zh
        parsed = tests if lang == "en" else {lang: tests[lang]}
        runs[lang] = intent_run(f"xsid_{lang}", valid[lang], parsed, config, e5=e5)
    if ungated is not None:
        runs["en_ungated"] = intent_run(
            "xsid_en_ungated", valid["en"], tests, ungated, with_baseline=False
        )
    all_valid = [row for lang in XSID_LANGUAGES for row in valid[lang]]
    runs["all"] = intent_run("xsid_all", all_valid, tests, config, e5=e5)
    return {
        "runs": runs,
        "valid_examples": {lang: len(rows) for lang, rows in valid.items()},
        "seconds": time.monotonic() - started,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def bench_phoatis(root: Path, config: Path, e5: dict[str, Any] | None) -> dict[str, Any]:
    """PhoATIS syllable-level: trained on train, tested on test (dev unused)."""
    started = time.monotonic()
    train, test = phoatis(root, "train"), phoatis(root, "test")
    run = intent_run("phoatis", train, {"vi": test}, config, e5=e5)
    return run | {"seconds": time.monotonic() - started}


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


# van der Goot et al. 2021 train on xSID's English *training* set, which is not in
# ../shared/datasets: their figures are for another training set than the valid splits used here.
XSID_PAPER = (
    "van der Goot, Sharaf, Imankulova, Üstün, Stepanović, Ramponi, Khairunnisa, Komachi and "
    'Plank (2021), "From Masked Language Modeling to Translation: Non-English Auxiliary Tasks '
    'Improve Zero-shot Spoken Language Understanding", NAACL 2021, pages 2479-2497, '
    "https://aclanthology.org/2021.naacl-main.197/"
)
PHOATIS_PAPER = (
    'Dao, Truong and Nguyen (2021), "Intent Detection and Slot Filling for Vietnamese", '
    "Interspeech 2021, https://arxiv.org/abs/2104.02021"
)
# Published intent accuracies on the same test split *and* the same training data, as
# (system, {test language: accuracy %}, source with its table). None were found that train on
# xSID's valid splits; see the section's text for what the papers do report.
PUBLISHED_XSID: list[tuple[str, dict[str, float], str]] = []
PUBLISHED_PHOATIS: list[tuple[str, float, str]] = []

XSID_RUNS = {
    "en": "en valid",
    "en_ungated": "en valid",
    "id": "id valid",
    "zh": "zh valid",
    "all": "en + id + zh valid",
}


def xsid_tables(report: dict[str, Any]) -> str:
    """The xSID and PhoATIS figures as Markdown (printed, and written to docs/benchmarks.md)."""
    out: list[str] = []
    x = report.get("xsid")
    if x:
        runs = x["runs"]
        langs = list(XSID_LANGUAGES)

        def cells(run: dict[str, Any], key: str, home: list[str], bold: bool) -> str:
            row = []
            for lang in langs:
                if lang not in run["test"]:
                    row.append("")
                    continue
                value = pct(run["test"][lang][key])
                row.append(f"**{value}**" if bold and lang in home else value)
            return " | ".join(row)

        out += [
            f"**xSID 0.7** ({', '.join(f'{lang} {n}' for lang, n in x['valid_examples'].items())}"
            f" valid sentences, {runs['en']['test']['en']['test_examples']} test sentences "
            "each, 16 intents; the languages are translations of the same sentences): "
            "intent accuracy on each language's test split, %",
            "",
            "| trained on | system | en test | id test | zh test |",
            "|---|---|---|---|---|",
        ]
        for key in ("en", "id", "zh", "all"):
            run = runs[key]
            home = langs if key == "all" else [key]
            trained = f"{XSID_RUNS[key]} ({run['train_examples']})"
            out.append(
                f"| {trained} | {who(report)}{'' if suffix(report) else ' (config.yml)'} "
                f"| {cells(run, 'accuracy', home, True)} |"
            )
            if key == "en" and "en_ungated" in runs:
                out.append(
                    f"| {trained} | the same, known-word gate off (`min_known_share: 0`) "
                    f"| {cells(runs['en_ungated'], 'accuracy', home, False)} |"
                )
            if "embedding_alone_accuracy" in run["test"][home[0]]:
                out.append(
                    f"| {trained} | its e5 embedding alone (the same SVM without the n-grams; "
                    f"outside Rasa) | {cells(run, 'embedding_alone_accuracy', home, False)} |"
                )
            out.append(
                f"| {trained} | TF-IDF + LinearSVC baseline "
                f"| {cells(run, 'baseline_accuracy', home, False)} |"
            )
        for name, figures_by_lang, source in PUBLISHED_XSID:
            row = " | ".join(
                f"{figures_by_lang[lang]:.1f}" if lang in figures_by_lang else "" for lang in langs
            )
            out.append(f"| {source} | {name} (published) | {row} |")
        en = runs["en"]
        dropped = ", ".join(f"`{label}` ({n})" for label, n in en["dropped"].items())
        reach = " / ".join(pct(en["test"][lang]["reachable"]) for lang in langs)
        out += [
            "",
            "Each model is trained on the valid split(s) named, less the labels with fewer than "
            f"{MIN_PER_LABEL} examples there (the classifier calibrates with 3 folds): in each "
            f"language's valid split {dropped or 'none'}. Some test labels are then never seen "
            "in training (`alarm/time_left_on_alarm` has no valid sentence at all), so the "
            f"single-language models can reach at most {reach}% (en / id / zh). Top-intent "
            "accuracy: a message the known-word gate refuses (every probability 0) counts as "
            "wrong. Off-diagonal cells of the English rows are cross-lingual: trained on "
            "English alone, tested on Indonesian and Chinese.",
            "",
        ]
        ungated = runs.get("en_ungated")
        if ungated and "embedding_alone_accuracy" in en["test"]["id"]:

            def two(run: dict[str, Any], key: str) -> str:
                return " and ".join(pct(run["test"][lang][key]) for lang in ("id", "zh"))

            example = (
                " (with config.yml's settings the character block of `显示所有的提醒`, "
                "'show all reminders', is the single n-gram ' ' at weight 1.0)"
                if not suffix(report)
                else ""
            )
            out += [
                "**Cross-lingual, trained on English alone.** The transfer is lost in the "
                "n-grams, not in the embedding: the e5 block alone gets "
                f"{two(en, 'embedding_alone_accuracy')}% of the Indonesian and Chinese test "
                f"messages right, the whole classifier without its gate {two(ungated, 'accuracy')}"
                "%. A foreign message's n-gram features are not empty: they are the few character "
                "n-grams it shares with English (the space, '?', digits, Latin letters and names), "
                f"and TF-IDF's length normalisation gives them full weight{example}, so they "
                "outvote the embedding. With the gate on, as shipped, the bot falls back on "
                f"{two(en, 'fallback_rate')}% of them instead. The bot itself is trained on all "
                "four languages, like the last rows; this matters only for a language without "
                "training examples.",
                "",
            ]
        out += [
            "As the bot answers (the FallbackClassifier's `nlu_fallback` counted as wrong): "
            "accuracy / share of messages that fell back, %",
            "",
            "| trained on | en test | id test | zh test | training | parse, median / p95 |",
            "|---|---|---|---|---|---|",
        ]
        for key in ("en", "en_ungated", "id", "zh", "all"):
            run = runs.get(key)
            if not run:
                continue
            row = " | ".join(
                f"{pct(run['test'][lang]['accuracy_with_fallback'])} / "
                f"{pct(run['test'][lang]['fallback_rate'])}"
                if lang in run["test"]
                else ""
                for lang in langs
            )
            gate = ", gate off" if key == "en_ungated" else ""
            out.append(
                f"| {XSID_RUNS[key]}{gate} | {row} | {run['train_seconds']:.0f} s "
                f"| {run['median_parse_ms']:.1f} / {run['p95_parse_ms']:.1f} ms |"
            )
        out.append("")
    ph = report.get("phoatis")
    if ph:
        vi = ph["test"]["vi"]
        dropped = ", ".join(f"`{label}` ({n})" for label, n in ph["dropped"].items())
        out += [
            f"**PhoATIS** (syllable level; {ph['train_examples']} training sentences over "
            f"{ph['labels']} intents, {vi['test_examples']} test sentences): intent accuracy "
            "on the test split, %",
            "",
            "| trained on | system | vi test | as the bot answers / fallback | training |",
            "|---|---|---|---|---|",
            f"| PhoATIS train | {who(report)} | **{pct(vi['accuracy'])}** "
            f"| {pct(vi['accuracy_with_fallback'])} / {pct(vi['fallback_rate'])} "
            f"| {ph['train_seconds']:.0f} s |",
            f"| PhoATIS train | TF-IDF + LinearSVC baseline | {pct(vi['baseline_accuracy'])} | "
            f"| {ph['baseline_train_seconds']:.0f} s |",
        ]
        if "embedding_alone_accuracy" in vi:
            out.append(
                f"| PhoATIS train | its e5 embedding alone (outside Rasa) "
                f"| {pct(vi['embedding_alone_accuracy'])} | | |"
            )
        out += [
            f"| PhoATIS train | {name} (published, {source}) | {value:.2f} | | |"
            for name, value, source in PUBLISHED_PHOATIS
        ]
        out += [
            "",
            f"Labels left out of training (fewer than {MIN_PER_LABEL} examples): "
            f"{dropped or 'none'}; at most {pct(vi['reachable'])}% of the test set is "
            "reachable.",
            "",
        ]
    elif "phoatis_note" in report:
        out += [report["phoatis_note"], ""]
    return "\n".join(out)


PHOATIS_ABSENT = (
    "**PhoATIS (Vietnamese): not measured in this run.** Give its folder with `--phoatis DIR` "
    "or `PHOATIS_DIR=DIR` (`PhoATIS/` of github.com/VinAIResearch/JointIDSF). Its licence allows "
    "research use only and forbids redistribution, so it is never in this repository or in "
    "`../shared/datasets/`."
)
XSID_PUBLISHED_TEXT = (
    "**Published figures.** None is printed beside these rows, because none was found for the "
    "same training data. xSID comes from " + XSID_PAPER + ". The paper's intent accuracies on "
    "these test splits are for mBERT (and a second pre-trained encoder) fine-tuned on xSID's "
    "full English *training* set (Snips and Facebook's multilingual task-oriented data, "
    "converted to the xSID labels) and tested zero-shot on the other languages. That is a "
    "different and far larger training set than the 300-sentence valid splits used here, and "
    "it is not in `../shared/datasets/` (the dataset's README: too large to bring here), so "
    "our English-trained rows are not comparable to them. The paper's result tables could not "
    "be read with the tools available for this benchmark, so no figure from them is quoted "
    "here; read them in the paper."
)
PHOATIS_PUBLISHED_TEXT = (
    "PhoATIS comes from " + PHOATIS_PAPER + ", which reports intent accuracy on this test split "
    "for JointBERT+CRF and JointIDSF (PhoBERT and XLM-R encoders) trained on the same training "
    "split; its tables could not be read with the tools available here, so no figure is quoted."
)


def xsid_markers(config: str) -> tuple[str, str]:
    name = "bench-nlu xsid" if config == SHIPPED else "bench-nlu xsid comparison"
    return (
        f"<!-- {name}: written by `make bench-nlu` (tests/bench/nlu_public.py); do not edit -->",
        f"<!-- /{name} -->",
    )


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
    replace_section(begin, end, "\n".join(body))


def replace_section(begin: str, end: str, section: str, after: tuple[str, ...] = ()) -> None:
    """Put `section` between its markers in docs/benchmarks.md; a new one goes after the first of
    the `after` markers found, or at the end."""
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
        marker = next((m for m in after if m in text), None)
        if marker:
            head, rest = text.split(marker, 1)
            text = head + marker + "\n\n" + section + rest
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text)


def write_xsid_docs(report: dict[str, Any]) -> None:
    config = report.get("config", SHIPPED)
    begin, end = xsid_markers(config)
    x = report["xsid"]
    title = "## NLU in four languages on public data: xSID (en, id, zh) and PhoATIS (vi)"
    if config != SHIPPED:
        title += f": {report.get('label') or 'another pipeline, for comparison'} ({config})"
    load, load_after = (
        "/".join(f"{v:.1f}" for v in x[key]) for key in ("load_before", "load_after")
    )
    seconds = x["seconds"] + report.get("phoatis", {}).get("seconds", 0.0)
    body = [
        begin,
        title,
        "",
        f"`make bench-nlu`, or this part alone: `.venv-rasa/bin/python -m tests.bench.nlu_public "
        f"--only xsid [--phoatis DIR]`; {time.strftime('%Y-%m-%d')}, {seconds:.0f} s for this "
        f"part on {os.cpu_count()} cores (load average {load} at the start, {load_after} at the "
        "end). The NLU pipeline of "
        + (config if config == SHIPPED else f"{config}")
        + ", trained with `rasa train nlu` on each training set, every test message parsed "
        "through Rasa's Agent one at a time; the TF-IDF + LinearSVC baseline beside it on the same "
        "data. xSID's valid splits are the only training data here: nothing was tuned on them or "
        "on a test split. One run of each. Times are wall-clock and depend on what else the "
        "machine runs (a load average of 2 means both cores busy).",
        "",
        xsid_tables(report),
        XSID_PUBLISHED_TEXT,
        "",
    ]
    if "phoatis" in report:
        body += [PHOATIS_PUBLISHED_TEXT, ""]
    body += [end]
    if config == SHIPPED:
        after = (markers("comparison")[1], markers(SHIPPED)[1])
    else:
        after = (xsid_markers(SHIPPED)[1], markers(config)[1])
    replace_section(begin, end, "\n".join(body), after=after)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--only",
        choices=["banking77", "clinc150", "xsid"],
        default=None,
        help="one part (xsid: xSID, and PhoATIS when given)",
    )
    parser.add_argument(
        "--phoatis",
        type=Path,
        default=os.environ.get("PHOATIS_DIR") or None,
        help="PhoATIS/ of VinAIResearch/JointIDSF (default: $PHOATIS_DIR); skipped when absent",
    )
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument(
        "--config", type=Path, default=ROOT / "config.yml", help="another pipeline to measure"
    )
    parser.add_argument(
        "--label", default=None, help="what the --config pipeline is (its section's title)"
    )
    args = parser.parse_args()
    if args.phoatis and not args.phoatis.is_dir():
        parser.error(f"--phoatis {args.phoatis}: no such folder")
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
    report["seconds"] = time.monotonic() - started  # Banking77 and CLINC150
    report["load_after"] = os.getloadavg()
    if args.only in (None, "xsid"):
        ungated = without_known_word_gate(nlu_config)
        ungated_config = None
        if ungated is not None:
            ungated_config = WORK / "config_no_gate.yml"
            ungated_config.write_text(yaml.safe_dump(ungated, sort_keys=False))
        e5 = e5_classifier(nlu_config)
        report["xsid"] = bench_xsid(config, ungated_config, e5)
        if args.phoatis:
            report["phoatis"] = bench_phoatis(args.phoatis, config, e5)
        else:
            report["phoatis_note"] = PHOATIS_ABSENT
    print()
    print(tables(report))
    print(xsid_tables(report))
    print(f"({time.monotonic() - started:.0f} s)")
    (ROOT / "results" / "bench_nlu.json").write_text(json.dumps(report, indent=2))
    if args.no_docs:
        return
    if "banking77" in report or "clinc150" in report:
        write_docs(report, plot(report))
        print(f"wrote {DOCS.relative_to(ROOT)} and its plots in {PLOTS.relative_to(ROOT)}/")
    if "xsid" in report:
        write_xsid_docs(report)
        print(f"wrote the xSID section of {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
