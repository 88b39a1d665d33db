"""The action server refuses every call without Rasa's token (actions/serve.py): the real server,
started as the launcher starts it, over HTTP."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_urlsafe(32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str, body: dict[str, object] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except (urllib.error.URLError, ConnectionError):
        return 0  # not listening yet


def _start(env: dict[str, str], port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "actions.serve", "--actions", "actions.server"]
    return subprocess.Popen(
        [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "SANIC_HOST": "127.0.0.1"}
    path = tmp_path_factory.mktemp("actions") / "server.log"
    with path.open("wb") as log:
        process = _start(env, port, log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while _status(f"{base}/health") != 200:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the action server did not start:\n{path.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


CALL = {
    "next_action": "action_session_start",
    "sender_id": "c1",
    "tracker": {"sender_id": "c1", "slots": {}, "events": [], "latest_message": {}},
    "domain": {},
    "version": "3.6.2",
}


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong-token-of-the-right-shape"])
def test_a_call_without_the_token_is_refused(server: str, query: str) -> None:
    assert _status(f"{server}/webhook{query}", CALL) == 401
    assert _status(f"{server}/actions{query}") == 401


def test_a_call_with_the_token_runs_the_action(server: str) -> None:
    assert _status(f"{server}/webhook?token={TOKEN}", CALL) == 200
    assert _status(f"{server}/actions?token={TOKEN}") == 200


def test_health_stays_open_for_the_service_and_the_launcher(server: str) -> None:
    assert _status(f"{server}/health") == 200


def test_without_a_token_the_server_does_not_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    with (tmp_path / "server.log").open("wb") as log:
        assert _start(env, _free_port(), log).wait(timeout=60) != 0
    assert "ACTION_SERVER_TOKEN is missing" in (tmp_path / "server.log").read_text()
