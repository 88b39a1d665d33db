"""`rasa test core` on the test stories: every turn's intent and every bot action must match."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.rasa_model import ROOT, model_path


def test_stories_pass_with_no_prediction_errors(tmp_path: Path) -> None:
    rasa = Path(sys.executable).with_name("rasa")
    result = subprocess.run(
        [
            str(rasa),
            "test",
            "core",
            "--model",
            str(model_path()),
            "--stories",
            "tests/stories",
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path),
            "--no-plot",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = (
        failed.read_text() if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert result.returncode == 0, f"test stories failed:\n{details}"
