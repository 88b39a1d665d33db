from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.ops import launcher
from bot.settings import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in launcher.TRAINING_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, tmp_path / name)
        else:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_fingerprint_is_stable_and_changes_with_any_training_input(project: Path) -> None:
    first = launcher.fingerprint(project)
    assert launcher.fingerprint(project) == first
    (project / "data" / "nlu" / "chitchat.yml").write_text(
        (project / "data" / "nlu" / "chitchat.yml").read_text() + "\n"
    )
    second = launcher.fingerprint(project)
    assert second != first
    (project / "data" / "rules" / "new.yml").write_text('version: "3.1"\n')
    third = launcher.fingerprint(project)
    assert third not in (first, second)
    # the NLU component's code is a training input too
    component = project / "actions" / "nlu" / "linear.py"
    component.write_text(component.read_text() + "\n")
    assert launcher.fingerprint(project) not in (first, second, third)


def test_fingerprint_ignores_files_rasa_does_not_train_on(project: Path) -> None:
    first = launcher.fingerprint(project)
    (project / "README.md").write_text("notes")
    cache = project / "actions" / "nlu" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "linear.cpython-310.pyc").write_bytes(b"compiled")  # Python writes these on import
    assert launcher.fingerprint(project) == first


def test_model_is_named_after_the_fingerprint(project: Path) -> None:
    assert (
        launcher.model_path(project).name
        == f"fetch-and-home-{launcher.fingerprint(project)}.tar.gz"
    )


def test_first_start_writes_dotenv_with_a_fresh_token(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env.example").write_text((ROOT / ".env.example").read_text())
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    launcher.ensure_dotenv()
    text = (tmp_path / ".env").read_text()
    secrets = dict(line.split("=", 1) for line in text.splitlines() if "SECRET=" in line)
    assert set(secrets) == {"RASA_JWT_SECRET", "BOT_SECRET", "CUSTOMER_IDENTITY_SECRET"}
    assert all(len(value) >= 48 for value in secrets.values())
    assert len(set(secrets.values())) == 3
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    launcher.ensure_dotenv()  # never overwritten once there
    assert (tmp_path / ".env").read_text() == text


def test_a_secret_missing_from_an_existing_dotenv_is_added(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("BOT_PORT=9000\nRASA_JWT_SECRET=" + "k" * 40 + "\n")
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    launcher.ensure_dotenv()
    lines = (tmp_path / ".env").read_text().splitlines()
    assert "BOT_PORT=9000" in lines and "RASA_JWT_SECRET=" + "k" * 40 in lines
    [bot_secret] = [line for line in lines if line.startswith("BOT_SECRET=")]
    assert len(bot_secret) > len("BOT_SECRET=") + 32


def _fake(tmp_path: Path, name: str = "rasa") -> launcher.Service:
    """A child that runs until killed, as the real ones do."""
    command = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]
    return launcher.Service(name, command, lambda: True, log=tmp_path / f"{name}.log")


def _wait_until_up(child: launcher.Service) -> None:
    deadline = time.monotonic() + 30
    while child.log.read_text().count("up") < child.restarts + 1:
        assert time.monotonic() < deadline, "the fake child did not start"
        time.sleep(0.05)


def test_a_child_that_dies_is_restarted_with_backoff_and_the_others_keep_running(
    tmp_path: Path,
) -> None:
    rasa, bot = _fake(tmp_path, "rasa"), _fake(tmp_path, "bot")
    children = [rasa, bot]
    env = dict(os.environ)
    try:
        for child in children:
            child.spawn(env)
        assert rasa.process is not None and bot.process is not None
        bot_pid, now = bot.process.pid, time.monotonic()
        delays = []
        for deaths in (1, 2, 3):
            _wait_until_up(rasa)
            os.kill(rasa.process.pid, signal.SIGKILL)
            rasa.process.wait(timeout=10)
            [said] = launcher.keep_running(children, env, now)
            assert said.startswith("rasa stopped unexpectedly (exit code -9); restarting in")
            assert "the others keep running" in said and "up" in said  # its last lines
            delays.append(rasa.restart_at - now)
            assert launcher.keep_running(children, env, now + delays[-1] - 0.1) == []
            now += delays[-1]
            assert launcher.keep_running(children, env, now) == [
                f"rasa restarted (restart {deaths} in a row)"
            ]
            assert rasa.process.poll() is None
        assert delays == [1.0, 2.0, 4.0]
        assert launcher.restart_delay(50) == launcher.RESTART_MAX_DELAY
        assert bot.process.pid == bot_pid and bot.process.poll() is None  # never touched
        # up long enough: the next death starts from the first delay again
        assert launcher.keep_running(children, env, time.monotonic() + 61) == []
        assert rasa.restarts == 0
    finally:
        launcher.stop(children)
