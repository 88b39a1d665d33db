"""Find the trained model the Rasa-side tests and evaluations run against."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class NoModelError(RuntimeError):
    pass


def model_path() -> Path:
    """RASA_MODEL if set (the Makefile sets it to the current data's model), else the newest."""
    if os.environ.get("RASA_MODEL"):
        path = Path(os.environ["RASA_MODEL"])
        if not path.is_file():
            raise NoModelError(f"RASA_MODEL={path} does not exist; run `make model`")
        return path
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise NoModelError("no trained model in models/; run `make model`")
    return models[-1]
