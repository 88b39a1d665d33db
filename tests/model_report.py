"""One trained model's report card: `python -m tests.model_report --model PATH --out FILE`.

What the conversation designer's before/after compares (bot/designer/training.py runs this for
the serving model and for the candidate): the held-out NLU set (accuracy, macro-F1, per-label
precision, recall and F1, confusions), the labelled handoff conversations (precision, recall,
reason accuracy), and the test stories (how many fail). Runs in the Rasa environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.handoff import evaluate as handoff
from tests.nlu import evaluate as nlu
from tests.rasa_model import ROOT


def stories(model: Path) -> dict[str, Any]:
    files = sorted((ROOT / "tests" / "stories").glob("*.yml"))
    total = sum(f.read_text().count("\n- story:") for f in files)
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [str(Path(sys.executable).with_name("rasa")), "test", "core", "--model", str(model),
             "--stories", "tests/stories", "--out", out, "--no-plot"],
            cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )  # fmt: skip
        failed_file = Path(out) / "failed_test_stories.yml"
        failed = failed_file.read_text() if failed_file.exists() else ""
    names = [
        line.split(":", 1)[1].strip() for line in failed.splitlines() if line.startswith("- story:")
    ]
    return {"total": total, "failed": len(names), "failed_names": names}


async def report(model: Path) -> dict[str, Any]:
    held_out = await nlu.evaluate(model)
    handoffs = await handoff.evaluate(model, quick=True)
    company = handoffs["company"]
    return {
        "model": model.name,
        "nlu": {
            "accuracy": held_out.accuracy,
            "macro_f1": held_out.macro_f1,
            "examples": held_out.examples,
            "per_label": held_out.per_label,
            "confusions": [list(c) for c in held_out.confusions],
        },
        "handoff": {
            key: company[key] for key in ("conversations", "precision", "recall", "reason_accuracy")
        },
        "stories": stories(model),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = asyncio.run(report(args.model))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
