"""5-fold cross-validation of the learned frustration signal (actions/nlu/frustration.py).

What policy.yml's `learned` scores were chosen by: for each score, the share of held-out
frustrated messages that reach it (recall), and the share of held-out calm ones that do, both the
hard look-alikes of data/frustration/ and the NLU data's calm intents (questions, greetings,
thanks). Trained as Rasa trains it, with config.yml's settings; the labelled conversations of the
handoff evaluation are never read.

    PYTHONPATH=. .venv-rasa/bin/python -m tests.nlu.frustration_cv   (about 5 minutes on 2 cores)
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from actions.nlu.frustration import FrustrationScorer, everyday_examples, fit, mask, read_file
from tests.nlu.cross_validate import embed_each_text_once

ROOT = Path(__file__).resolve().parents[2]
SCORES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
FOLDS = 5


def shipped_config() -> dict[str, object]:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    (entry,) = [c for c in pipeline if c["name"].endswith("FrustrationScorer")]
    return {**FrustrationScorer.get_default_config(), **entry}


def main() -> None:
    embed_each_text_once()
    config = shipped_config()
    nlu = load_data(str(ROOT / "data" / "nlu"))
    regexes = [re.compile(f["pattern"]) for f in nlu.regex_features]
    names = [f["name"] for f in nlu.regex_features]

    texts: list[str] = []
    labels: list[int] = []
    languages: list[str] = []
    for path in sorted((ROOT / str(config["data"])).glob("*.yml")):
        found, kinds = read_file(path)
        texts += [mask(text, regexes, names) for text in found]
        labels += kinds
        languages += [path.stem] * len(found)
    everyday = everyday_examples(nlu, config["calm_intents"])  # type: ignore[arg-type]
    y = np.asarray(labels)
    scores = np.zeros(len(texts))
    everyday_scores = np.zeros(len(everyday))
    splits = zip(
        StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(texts, y),
        KFold(FOLDS, shuffle=True, random_state=0).split(everyday),
        strict=True,
    )
    for number, ((train, held), (train_nlu, held_nlu)) in enumerate(splits, start=1):
        model = fit(config, [texts[i] for i in train], y[train], [everyday[i] for i in train_nlu])
        scores[held] = model.predict_proba([texts[i] for i in held])[:, 1]
        everyday_scores[held_nlu] = model.predict_proba([everyday[i] for i in held_nlu])[:, 1]
        print(f"fold {number}/{FOLDS} done", flush=True)

    frustrated, calm = scores[y == 1], scores[y == 0]
    print(
        f"\nC={config['C']} embedding_weight={config['embedding_weight']} "
        f"calm_weight={config['calm_weight']}: {len(frustrated)} frustrated, {len(calm)} calm, "
        f"{len(everyday)} everyday NLU messages; AUC {roc_auc_score(y, scores):.3f}"
    )
    print("score  recall  calm look-alikes  everyday NLU   recall by language")
    langs = sorted(set(languages))
    lang = np.asarray(languages)
    for score in SCORES:
        by_language = "  ".join(
            f"{code} {np.mean(scores[(y == 1) & (lang == code)] >= score):.2f}" for code in langs
        )
        print(
            f"{score:5.2f}  {np.mean(frustrated >= score):6.1%}  {np.mean(calm >= score):16.1%}"
            f"  {np.mean(everyday_scores >= score):12.2%}   {by_language}"
        )


if __name__ == "__main__":
    main()
