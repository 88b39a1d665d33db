"""Cross-validation on the bot's own training data: `python -m tests.nlu.cross_validate`.

Trains the NLU classifier of config.yml (actions/nlu/linear.py's pipeline, with scikit-learn
directly rather than `rasa train`, same features and settings) on k-1 folds of data/nlu and
scores the fold left out, k times (stratified, seeded), and reports:

1. accuracy and macro-F1 of the full label (FAQ topics included), as tests/nlu/evaluate.py scores;
2. how the gate's "not understood" checks split the left-out messages into answered right,
   answered wrong and asked to rephrase, and the same for variants of them generated here: light
   typos (one edit in about a third of the words: the meaning stays, the label is the original's),
   heavy typos (every word of three letters or more edited once or twice) and word salad (words
   drawn from the training folds' messages; any answer to it is wrong). The checks are those of
   the running bot: no or too few known words (the classifier's `min_known_share`), the
   FallbackClassifier's threshold and ambiguity, the FAQ topic's share (policy.yml
   `min_faq_confidence`) and a cut-off last word (`unfinished_endings`);
3. the thresholds this data supports, by one rule for every pipeline: the FallbackClassifier
   threshold (which policy.yml's min_intent_confidence follows) and min_faq_confidence that
   maximise right minus wrong answers on the left-out messages (a wrong answer costs what a right
   one gains; asking again costs nothing), then the min_known_share that maximises right minus
   wrong over the left-out messages and both typo variants at those thresholds;
4. requests a person must handle (the intents of policy.yml's always_human rules and
   frustration signals), alone and after a left-out FAQ question in the same message ("<FAQ
   question>. <request>"): how often the whole message's label finds them, and how often a
   sentence classified alone does at each min_sentence_confidence; and how often a sentence alone
   names such a request the message is not (false), in the training data's own messages of two
   or more sentences and in two FAQ questions joined. The threshold it supports: the lowest at
   which sentences add no false request to the training data's own messages;
5. for policy.yml's confident_faq: the share of such requests taken for a confident FAQ answer
   (which then overrides rule patterns) and the share of FAQ questions it protects.

It never reads the held-out set (tests/nlu/test_nlu.yml), the handoff conversations or public
data. Prints the figures and writes results/cross_validation.json; a measurement, not a test.
Each text is embedded once per run (the sentence encoder is the slow part): about 2 minutes on 2
cores with the MiniLM features, 20 s without.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from actions.handoff.policy import Policy, load_policy
from tests.nlu.evaluate import f1_scores
from tests.rasa_model import ROOT

SETS = ("clean", "light typos", "heavy typos", "word salad")
NONSENSE = ("word salad",)  # no label: any answer is wrong
FALLBACK_GRID = np.round(np.arange(0.2, 0.6001, 0.025), 3)
FAQ_GRID = np.round(np.arange(0.2, 0.7001, 0.025), 3)
KNOWN_GRID = np.round(np.arange(0.0, 0.8001, 0.1), 2)
SENTENCE_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
CONFIDENT_GRID = (0.5, 0.6, 0.7, 0.8)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


# --- configuration -----------------------------------------------------------------------------


def classifier_settings(config_path: Path) -> tuple[dict[str, Any], float, float]:
    """The LinearIntentClassifier's settings (defaults filled in) and the FallbackClassifier's
    threshold and ambiguity threshold, from a config.yml."""
    from actions.nlu.linear import LinearIntentClassifier

    pipeline = yaml.safe_load(config_path.read_text())["pipeline"]
    found = [c for c in pipeline if str(c["name"]).endswith("LinearIntentClassifier")]
    if not found:
        raise SystemExit(f"{config_path}: no LinearIntentClassifier in the pipeline")
    settings = {k: v for k, v in found[0].items() if k != "name"}
    fallback = [c for c in pipeline if c["name"] == "FallbackClassifier"]
    threshold = float(fallback[0].get("threshold", 0.3)) if fallback else 0.0
    ambiguity = float(fallback[0].get("ambiguity_threshold", 0.1)) if fallback else 0.0
    return {**LinearIntentClassifier.get_default_config(), **settings}, threshold, ambiguity


def person_intents(policy: Policy) -> set[str]:
    """Intents that hand a conversation over or count towards it: always_human rules, signals."""
    found = {intent for rule in policy.rules for intent in rule.intents}
    return found | {intent for signal in policy.signals.values() for intent in signal.intents}


# --- data and variants -------------------------------------------------------------------------


def training_examples() -> tuple[list[str], np.ndarray]:
    """data/nlu as the classifier trains on it: entity-masked texts and full labels."""
    from rasa.shared.nlu.training_data.loading import load_data

    from actions.nlu.linear import masked_text

    data = load_data(str(ROOT / "data" / "nlu"))
    examples = [m for m in data.intent_examples if m.get("text")]
    return [masked_text(m) for m in examples], np.asarray([m.get_full_intent() for m in examples])


def _edit(word: str, rng: random.Random) -> str:
    """One or two random keyboard slips: a letter dropped, doubled, swapped or replaced."""
    if len(word) < 3 or word.startswith("__"):  # short words and masked entities stay
        return word
    for _ in range(rng.choice((1, 2))):
        i = rng.randrange(len(word))
        kind = rng.randrange(4)
        if kind == 0:
            word = word[:i] + word[i + 1 :]
        elif kind == 1:
            word = word[:i] + word[i] + word[i:]
        elif kind == 2 and i < len(word) - 1:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            word = word[:i] + rng.choice(_LETTERS) + word[i + 1 :]
        if len(word) < 2:
            break
    return word


def typos(text: str, share: float, rng: random.Random) -> str:
    return " ".join(_edit(w, rng) if rng.random() < share else w for w in text.split())


def word_salad(training_texts: list[str], rng: random.Random) -> str:
    """3-10 words, each a random word of a random training message (so as common as there)."""
    return " ".join(
        rng.choice(rng.choice(training_texts).split()) for _ in range(rng.randint(3, 10))
    )


# --- the encoder, once per text ----------------------------------------------------------------


def embed_each_text_once() -> None:
    """Let the sentence encoders embed each distinct text once per run: the folds share texts."""
    import actions.nlu.e5 as e5
    import actions.nlu.encoder as nlu_encoder

    # e5's own cache of big batches, for every batch and without its bound
    e5.RECENT_BATCH, e5.BULK_KEPT = 0, sys.maxsize

    encoder, digest = nlu_encoder.shared_encoder()
    cache: dict[tuple[str, int], np.ndarray] = {}

    class Cached:
        tokenizer = encoder.tokenizer

        def encode(self, texts: list[str], layers: int = 1, batch_size: int = 64) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if (t, layers) not in cache]
            if missing:
                for text, row in zip(missing, encoder.encode(missing, layers), strict=True):
                    cache[(text, layers)] = row
            if not texts:
                return np.zeros((0, layers * encoder.dimensions), dtype=np.float32)
            return np.stack([cache[(t, layers)] for t in texts])

    cached = Cached()
    nlu_encoder.shared_encoder = lambda: (cached, digest)  # type: ignore[assignment]


# --- what the bot makes of a probability row ---------------------------------------------------


def read_rows(
    fitted: Any, texts: list[str], policy: Policy, ambiguity: float
) -> dict[str, np.ndarray]:
    """Per text what the gate sees: base intent and its probability, the runner-up's, the full
    label, the FAQ topic's share, the known-word share, and whether the text is cut off."""
    from actions.handoff.turns import unfinished
    from actions.nlu.linear import known_share

    pipeline = fitted.pipeline
    labels = [str(c) for c in pipeline.classes_]
    bases = sorted({label.partition("/")[0] for label in labels})
    member = np.zeros((len(labels), len(bases)))
    for j, label in enumerate(labels):
        member[j, bases.index(label.partition("/")[0])] = 1.0
    probabilities = fitted.probabilities(texts) if texts else np.zeros((0, 0))
    by_base = probabilities @ member
    order = np.argsort(-by_base, axis=1)
    rows = np.arange(len(texts))
    top, second = by_base[rows, order[:, 0]], by_base[rows, order[:, 1]]
    intent = np.asarray([bases[i] for i in order[:, 0]])
    full, faq_share = [], []
    for r, name in enumerate(intent):
        within = np.where(member[:, bases.index(name)] > 0, probabilities[r], -1.0)
        best = int(np.argmax(within))
        full.append(labels[best])
        faq_share.append(probabilities[r, best] / top[r] if name == "faq" and top[r] else np.nan)
    return {
        "intent": intent,
        "confidence": top,
        "margin": top - second,
        "full": np.asarray(full),
        "faq_share": np.asarray(faq_share),
        "known": np.asarray([known_share(pipeline, t) for t in texts]),
        "unfinished": np.asarray([unfinished(t, policy) for t in texts], dtype=bool),
        "ambiguity": np.full(len(texts), ambiguity),
    }


def understood(
    rows: dict[str, np.ndarray], fallback: float, faq: float, known: float
) -> np.ndarray:
    """What the running bot would take as understood (answer), as actions/handoff/signals.py and the
    FallbackClassifier decide."""
    ok = (rows["known"] > 0) & (rows["known"] >= known)
    ok &= (rows["confidence"] >= fallback) & (rows["margin"] >= rows["ambiguity"])
    ok &= ~rows["unfinished"]
    return ok & ~(rows["faq_share"] < faq)  # NaN (not an FAQ) compares False


def outcomes(
    rows: dict[str, np.ndarray], truth: np.ndarray | None, fallback: float, faq: float, known: float
) -> dict[str, float]:
    answered = understood(rows, fallback, faq, known)
    right = np.zeros_like(answered) if truth is None else rows["full"] == truth
    return {
        "right": float((answered & right).mean()),
        "wrong": float((answered & ~right).mean()),
        "rephrase": float(1 - answered.mean()),
    }


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


# --- the run -----------------------------------------------------------------------------------


def cross_validate(config_path: Path, policy: Policy, folds: int, seed: int) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    from actions.nlu.linear import fit_classifier, sentences

    settings, fallback, ambiguity = classifier_settings(config_path)
    if settings["sentence_embeddings"]:
        embed_each_text_once()
    texts, labels = training_examples()
    requests = person_intents(policy)
    rng = random.Random(seed)
    gathered: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in SETS}
    truths: dict[str, list[np.ndarray]] = {name: [] for name in SETS}
    pairs: dict[str, list[dict[str, Any]]] = {"own": [], "faq+request": [], "faq+faq": []}
    started = time.monotonic()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(texts, labels), start=1):
        fitted = fit_classifier(settings, [texts[i] for i in train], labels[train])
        train_texts = [texts[i] for i in train]
        left_out = [texts[i] for i in test]
        truth = labels[test]
        variants = {
            "clean": left_out,
            "light typos": [typos(t, 0.3, rng) for t in left_out],
            "heavy typos": [typos(t, 1.0, rng) for t in left_out],
            "word salad": [word_salad(train_texts, rng) for _ in left_out],
        }
        for name, variant in variants.items():
            gathered[name].append(read_rows(fitted, variant, policy, ambiguity))
            truths[name].append(truth)

        # requests alone and after an FAQ question; the training data's own long messages
        faq = [i for i, label in enumerate(truth) if str(label).startswith("faq/")]
        asks = [i for i, label in enumerate(truth) if label in requests]
        joined = {
            "faq+request": [(rng.choice(faq), i) for i in asks],
            "faq+faq": [(rng.choice(faq), rng.choice(faq)) for _ in asks],
        }
        for kind, chosen in joined.items():
            whole = [f"{left_out[a]}. {left_out[b]}" for a, b in chosen]
            parts = [[left_out[a], left_out[b]] for a, b in chosen]
            pairs[kind] += sentence_records(
                fitted, whole, parts, truth[[b for _, b in chosen]], settings
            )
        own = [i for i, t in enumerate(left_out) if sentences(t)]
        pairs["own"] += sentence_records(
            fitted,
            [left_out[i] for i in own],
            [sentences(left_out[i]) for i in own],
            truth[own],
            settings,
        )
        print(f"  fold {fold}/{folds} done ({time.monotonic() - started:.0f} s)", flush=True)

    rows = {name: concat(parts) for name, parts in gathered.items()}
    truth_by_set = {name: np.concatenate(t) for name, t in truths.items()}
    report: dict[str, Any] = {
        "config": str(config_path),
        "classifier": {k: v for k, v in settings.items() if k not in ("ranking_length",)},
        "examples": len(texts),
        "labels": len(set(labels)),
        "folds": folds,
        "seed": seed,
        "seconds": round(time.monotonic() - started, 1),
    }
    clean = rows["clean"]
    pairs_scored = list(zip(truth_by_set["clean"], clean["full"], strict=True))
    report["accuracy"] = float(np.mean(clean["full"] == truth_by_set["clean"]))
    report["macro_f1"] = statistics.fmean(
        f1_scores([(str(e), str(p)) for e, p in pairs_scored]).values()
    )

    def table(fb: float, fq: float, kn: float) -> dict[str, dict[str, float]]:
        return {
            name: outcomes(rows[name], None if name in NONSENSE else truth_by_set[name], fb, fq, kn)
            for name in SETS
        }

    current = {
        "fallback_threshold": fallback,
        "min_faq_confidence": policy.min_faq_confidence,
        "min_known_share": float(settings["min_known_share"]),
    }
    report["at_current"] = current | {"outcomes": table(*current.values())}

    # (3) thresholds: right - wrong on the left-out messages, then the known-word share
    def net(o: dict[str, float]) -> float:
        return o["right"] - o["wrong"]

    scored = {
        (fb, fq): net(outcomes(clean, truth_by_set["clean"], fb, fq, 0.0))
        for fb, fq in itertools.product(FALLBACK_GRID, FAQ_GRID)
    }
    best = max(scored.values())
    fb, fq = min(key for key, value in scored.items() if value >= best - 1e-9)  # lowest on ties
    typo_sets = ("clean", "light typos", "heavy typos")
    known_scores = {
        kn: sum(net(outcomes(rows[n], truth_by_set[n], fb, fq, kn)) for n in typo_sets)
        for kn in KNOWN_GRID
    }
    best_known = max(known_scores.values())
    kn = min(k for k, value in known_scores.items() if value >= best_known - 1e-9)
    report["chosen"] = {
        "fallback_threshold": float(fb),
        "min_faq_confidence": float(fq),
        "min_known_share": float(kn),
        "outcomes": table(fb, fq, kn),
        "net_clean": best,
        "known_share_net": {str(k): v for k, v in known_scores.items()},
        "fallback_by_faq": {
            f"{a:.3f}": {f"{b:.3f}": round(v, 4) for (a2, b), v in scored.items() if a2 == a}
            for a in FALLBACK_GRID
        },
    }

    # (4) requests inside longer messages
    sentence_table = {}
    for threshold in (*SENTENCE_GRID, None):
        counts = Counter()
        for kind, records in pairs.items():
            for record in records:
                found = found_requests(record, requests, policy, fb, ambiguity, threshold)
                counts[f"{kind} found"] += record["truth"] in found
                counts[f"{kind} false"] += bool(found - {record["truth"]})
                counts[f"{kind} requests"] += record["truth"] in requests
                counts[f"{kind} messages"] += 1
        sentence_table["whole message only" if threshold is None else str(threshold)] = dict(counts)
    whole = sentence_table["whole message only"]
    quiet = [t for t in SENTENCE_GRID if sentence_table[str(t)]["own false"] <= whole["own false"]]
    report["sentences"] = {
        "table": sentence_table,
        "chosen_min_sentence_confidence": min(quiet) if quiet else None,
        "own_multi_sentence_messages": len(pairs["own"]),
    }

    # (5) confident_faq
    truth = truth_by_set["clean"]
    is_request = np.isin(truth, sorted(requests))
    is_faq = np.char.startswith(truth.astype(str), "faq/")
    confident = {}
    for threshold in CONFIDENT_GRID:
        taken = (
            (clean["intent"] == "faq")
            & (clean["confidence"] >= threshold)
            & (clean["faq_share"] >= threshold)
        )
        confident[str(threshold)] = {
            "requests_taken_for_faq": float(taken[is_request].mean()),
            "faq_protected": float(taken[is_faq].mean()),
            "faq_protected_right_topic": float((taken & (clean["full"] == truth))[is_faq].mean()),
        }
    report["confident_faq"] = {"current": policy.confident_faq, "table": confident}
    return report


def sentence_records(
    fitted: Any,
    whole: list[str],
    parts: list[list[str]],
    truth: np.ndarray,
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    """For each message: what its whole text and each of its sentences are classified as."""
    from actions.nlu.linear import intent_scores, known_share

    if not whole:
        return []
    pipeline = fitted.pipeline
    labels = [str(c) for c in pipeline.classes_]
    flat = [s for p in parts for s in p]
    probabilities = fitted.probabilities(whole + flat)
    records, position = [], len(whole)
    for i, sentence_texts in enumerate(parts):
        ranked = sorted(intent_scores(labels, probabilities[i]).items(), key=lambda kv: -kv[1])
        sentence_intents = []
        for text in sentence_texts:
            scores = intent_scores(labels, probabilities[position])
            position += 1
            share = known_share(pipeline, text)
            if share > 0 and share >= settings["min_known_share"]:
                name, confidence = max(scores.items(), key=lambda kv: kv[1])
                sentence_intents.append((text, name, confidence))
        records.append(
            {
                "truth": str(truth[i]),
                "intent": ranked[0][0],
                "confidence": ranked[0][1],
                "margin": ranked[0][1] - ranked[1][1],
                "sentences": sentence_intents,
            }
        )
    return records


def found_requests(
    record: dict[str, Any],
    requests: set[str],
    policy: Policy,
    fallback: float,
    ambiguity: float,
    sentence: float | None,
) -> set[str]:
    """The requests the gate acts on in this message: the whole message's intent (at the
    fallback threshold) and, from `sentence` up, any sentence's."""
    from actions.handoff.signals import sentence_intents

    found = set()
    if (
        record["intent"] in requests
        and record["confidence"] >= fallback
        and record["margin"] >= ambiguity
    ):
        found.add(record["intent"])
    if sentence is not None:
        found |= sentence_intents(record["sentences"], sentence, policy) & requests
    return found


# --- output ------------------------------------------------------------------------------------


def print_report(report: dict[str, Any]) -> None:
    print(f"config           {report['config']}")
    settings = report["classifier"]
    shown = {
        k: settings[k] for k in ("sentence_embeddings", "embedding_weight", "embedding_layers")
    }
    print(f"classifier       {shown}")
    print(
        f"data             {report['examples']} examples, {report['labels']} labels, "
        f"{report['folds']}-fold (seed {report['seed']}), {report['seconds']:.0f} s"
    )
    print(f"accuracy         {report['accuracy']:.3f}")
    print(f"macro-F1         {report['macro_f1']:.3f}")
    for key, title in (("at_current", "at the current thresholds"), ("chosen", "chosen")):
        block = report[key]
        print(
            f"{title}: fallback {block['fallback_threshold']}, min_faq_confidence "
            f"{block['min_faq_confidence']}, min_known_share {block['min_known_share']}"
        )
        print(f"  {'':14} {'right':>7} {'wrong':>7} {'rephrase':>9}")
        for name, o in block["outcomes"].items():
            print(f"  {name:14} {o['right']:7.3f} {o['wrong']:7.3f} {o['rephrase']:9.3f}")
    print("known-word share, right - wrong over clean and both typo sets at the chosen thresholds:")
    print("  " + ", ".join(f"{k}: {v:.3f}" for k, v in report["chosen"]["known_share_net"].items()))
    s = report["sentences"]
    print(
        f"requests a person handles, found / false ({s['own_multi_sentence_messages']} training "
        "messages of 2+ sentences; FAQ question + request; two FAQ questions):"
    )
    for threshold, c in s["table"].items():
        label = threshold if threshold == "whole message only" else f"sentence >= {threshold}"
        print(
            f"  {label:20} own {c.get('own found', 0)}/{c.get('own requests', 0)} found, "
            f"{c.get('own false', 0)} false; faq+request {c.get('faq+request found', 0)}/"
            f"{c.get('faq+request requests', 0)}, {c.get('faq+request false', 0)} false; "
            f"faq+faq {c.get('faq+faq false', 0)}/{c.get('faq+faq messages', 0)} false"
        )
    print(f"  chosen min_sentence_confidence: {s['chosen_min_sentence_confidence']}")
    print(f"confident_faq (now {report['confident_faq']['current']}):")
    for threshold, c in report["confident_faq"]["table"].items():
        print(
            f"  {threshold}: requests taken for an FAQ {c['requests_taken_for_faq']:.3f}, "
            f"FAQ questions protected {c['faq_protected']:.3f} "
            f"(right topic {c['faq_protected_right_topic']:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--policy", type=Path, default=ROOT / "policy.yml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "cross_validation.json")
    args = parser.parse_args()
    report = cross_validate(args.config, load_policy(args.policy), args.folds, args.seed)
    print_report(report)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
