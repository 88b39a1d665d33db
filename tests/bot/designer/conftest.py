"""A designer's service on a copy of the project, with a scripted stand-in for the Rasa
environment's commands (the real ones run in tests/e2e/test_designer.py)."""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.services import SERVICES
from bot.settings import ROOT
from tests.bot.conftest import OPEN_HOURS, FakeRasa, settings_for

FILES = ("data", "domain.yml", "config.yml", "actions", "tests/nlu/test_nlu.yml",
         "tests/nlu/test_nlu_vi.yml", "tests/nlu/test_nlu_id.yml", "tests/nlu/test_nlu_zh.yml",
         "tests/stories/test_faq.yml", "policy.yml")  # fmt: skip
SERVING = "fetch-and-home-serving.tar.gz"  # FakeRasa's model_file

# `rasa` and `python` of a Rasa environment, as far as the trainer uses them. Files in the
# project steer them: .fail-validate makes validation fail, .candidate-accuracy sets how good
# the candidate is.
FAKE_RASA = f"""#!{sys.executable}
import pathlib, sys, time
args = sys.argv[1:]
if args[:2] == ["data", "validate"]:
    if pathlib.Path(".fail-validate").exists():
        print("UserWarning: Issue found in 'data/nlu/faq_orders.yml': duplicate example")
        sys.exit(1)
elif args[0] == "train":
    name, out = args[args.index("--fixed-model-name") + 1], args[args.index("--out") + 1]
    time.sleep(0.2)
    pathlib.Path(out).mkdir(parents=True, exist_ok=True)
    (pathlib.Path(out) / f"{{name}}.tar.gz").write_text("model")
"""
FAKE_PYTHON = f"""#!{sys.executable}
import json, pathlib, sys
args = sys.argv[1:]
assert args[:2] == ["-m", "tests.model_report"], args
model, out = args[args.index("--model") + 1], args[args.index("--out") + 1]
marker = pathlib.Path(".candidate-accuracy")
accuracy = 0.90 if "serving" in model else float(marker.read_text()) if marker.exists() else 0.93
# a few labels that move with the accuracy (one against it), and one confusion per model
moves = {{"request_human": 2.0, "faq/order_status": 0.0, "faq/shipping_cost": -0.5,
          "out_of_scope": 1.0}}
per_label = {{
    label: {{k: round(min(1.0, 0.88 + weight * (accuracy - 0.90)), 3)
             for k in ("precision", "recall", "f1")}} | {{"support": 6}}
    for label, weight in moves.items()
}}
confused = ["faq/shipping_cost", "faq/delivery_time", "how long does shipping take to alaska"]
report = {{
    "model": pathlib.Path(model).name,
    "nlu": {{"accuracy": accuracy, "macro_f1": accuracy, "examples": 345,
             "confusions": [confused], "per_label": per_label}},
    "handoff": {{"conversations": 188, "precision": 1.0, "recall": 0.97, "reason_accuracy": 0.99}},
    "stories": {{"total": 80, "failed": 0, "failed_names": []}},
}}
pathlib.Path(out).write_text(json.dumps(report))
"""


def copy_project(target: Path) -> Path:
    for name in FILES:
        source, destination = ROOT / name, target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, destination)
    (target / "models").mkdir()
    (target / "models" / SERVING).write_text("serving model")
    return target


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def rasa_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "rasa-venv"
    (venv / "bin").mkdir(parents=True)
    for name, script in (("rasa", FAKE_RASA), ("python", FAKE_PYTHON)):
        path = venv / "bin" / name
        path.write_text(script)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return venv


@pytest.fixture
async def designer_client(
    aiohttp_client: Any,
    database_url: str,
    fake_rasa: tuple[FakeRasa, int],
    project: Path,
    rasa_venv: Path,
) -> TestClient:
    settings = settings_for(
        database_url, fake_rasa[1], DESIGNER_PROJECT_DIR=str(project), RASA_VENV=str(rasa_venv)
    )
    made: TestClient = await aiohttp_client(create_app(settings))
    made.app[SERVICES].now = lambda: OPEN_HOURS
    return made
