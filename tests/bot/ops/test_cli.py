"""`python -m bot` (bot/ops/cli.py) as an operator meets it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from bot.settings import ROOT


def test_a_bad_policy_file_stops_the_service_with_one_line_naming_the_key(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "policy.yml").read_text())
    data["desk"]["hours"]["timezone"] = "Mars/Olympus"
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(data))
    env = os.environ | {
        "POLICY_FILE": str(tmp_path / "policy.yml"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        "RASA_JWT_SECRET": "x" * 40,
        "BOT_SECRET": "b" * 40,
        "CUSTOMER_IDENTITY_SECRET": "c" * 40,
        "BOT_PORT": "1",  # never bound: the policy is read first
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: {tmp_path / 'policy.yml'}: 'desk.hours.timezone': expected an IANA time zone "
        "such as America/New_York, got 'Mars/Olympus'"
    )
    assert "Traceback" not in done.stderr
