"""Run the whole system on one machine: `python -m bot.ops.launcher {run,train,model-path,shell}`.

`train` trains a Rasa model only when config.yml, domain.yml or data/ changed (the model file is
named after a fingerprint of them); `model-path` prints that model's path. `run` trains if needed,
starts the action server, the Rasa server and the bot service on loopback, waits until each
answers, prints where to go, restarts any of them that dies (after 1 s, then 2 s, 4 s ... up to
30 s while it keeps dying; the others stay up, and the bot service's /readyz says what is down),
and stops all three on Ctrl-C. `shell` chats with the bot in the terminal (`rasa shell`, using
the action server that `run` started). In production a supervisor does the restarting instead
(README, "Production": systemd units or a container restart policy).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from bot.ops.demo_desk import sign_in_hint
from bot.rasa.auth import authorization
from bot.settings import RASA_VENV, ROOT, Settings, SettingsError, load_settings

RASA_BIN = RASA_VENV / "bin"
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"
MODELS = ROOT / "models"
LOGS = ROOT / "var" / "log"
# Everything `rasa train` reads, including the code of the components that run inside Rasa.
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "actions/nlu")


def fingerprint(root: Path = ROOT) -> str:
    """A digest of everything `rasa train` reads; any edit gives a new model name."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if _source(p)) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def _source(path: Path) -> bool:
    return path.is_file() and "__pycache__" not in path.parts


def model_path(root: Path = ROOT) -> Path:
    return root / "models" / f"fetch-and-home-{fingerprint(root)}.tar.gz"


def train_if_changed() -> Path:
    model = model_path()
    if model.exists():
        print(f"Model is up to date: {model.relative_to(ROOT)}")
        return model
    print("Training data, domain or config changed: training a new model ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            str(RASA_BIN / "rasa"),
            "train",
            "--fixed-model-name",
            model.name.removesuffix(".tar.gz"),
            "--out",
            str(MODELS),
        ],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        check=True,
    )
    print(f"Trained {model.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    return model


# A child that dies is started again after RESTART_FIRST_DELAY, doubled at each death in a row up
# to RESTART_MAX_DELAY; one that stayed up STABLE_SECONDS starts from the first delay again.
RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
STABLE_SECONDS = 60.0


# Generated on first start, with their length in random bytes: the desk's demo password is typed
# by people (bot/ops/demo_desk.py), the rest only by programs.
SECRETS = {
    "RASA_JWT_SECRET": 48,
    "BOT_SECRET": 48,
    "CUSTOMER_IDENTITY_SECRET": 48,
    "DEMO_DESK_PASSWORD": 12,
}


def ensure_dotenv() -> None:
    """Write .env from .env.example on first start; give every empty secret a random value."""
    dotenv, example = ROOT / ".env", ROOT / ".env.example"
    lines = (dotenv if dotenv.exists() else example).read_text().splitlines()
    present = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in lines if "=" in line}
    missing = [name for name in SECRETS if not present.get(name, "").strip()]
    if dotenv.exists() and not missing:
        return
    lines = [line for line in lines if line.split("=", 1)[0] not in missing]
    lines += [f"{name}={secrets.token_urlsafe(SECRETS[name])}" for name in missing]
    dotenv.write_text("\n".join(lines) + "\n")
    dotenv.chmod(0o600)
    print(f"Wrote {', '.join(missing)} to .env (random; edit .env to change any setting).")


@dataclass
class Service:
    name: str
    command: list[str]
    ready: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = None
    log: Path = LOGS
    restarts: int = 0  # deaths in a row, for the backoff
    started_at: float = 0.0
    restart_at: float | None = None  # when a dead child is due to start again

    def spawn(self, env: dict[str, str]) -> None:
        with self.log.open("ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()


def _http_ok(
    url: str,
    jwt_secret: str | None = None,
    predicate: Callable[[bytes], bool] | None = None,
) -> bool:
    """Whether `url` answers 200 (and `predicate` likes the body); False while still starting."""
    request = urllib.request.Request(url, headers=authorization(jwt_secret) if jwt_secret else {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            body: bytes = response.read()
            return response.status == 200 and (predicate is None or predicate(body))
    except urllib.error.HTTPError as error:
        error.close()
        if error.code in (401, 403):
            raise RuntimeError(
                f"{url} refused our token: is RASA_JWT_SECRET the same for every process?"
            ) from None
        return False
    except (urllib.error.URLError, ConnectionError, TimeoutError, HTTPException, ValueError):
        return False


def _model_loaded(body: bytes) -> bool:
    return bool(json.loads(body).get("model_id"))


def services(settings: Settings, model: Path) -> list[Service]:
    return [
        Service(
            "actions",
            [
                str(RASA_BIN / "python"),
                "-m",
                "actions.serve",  # rasa-sdk's server, refusing calls without the token
                "--actions",
                "actions.server",
                "--port",
                str(settings.action_port),
            ],
            lambda: _http_ok(settings.action_health_url),
        ),
        Service(
            "rasa",
            [
                # `rasa run`, with Rasa's costly re-check of its own schema on every action
                # server answer done once instead (actions/nlu/rasa_run.py says why)
                str(RASA_BIN / "python"),
                "-m",
                "actions.nlu.rasa_run",
                "run",
                "--model",
                str(model),
                "--enable-api",
                "--interface",
                "127.0.0.1",
                "--port",
                str(settings.rasa_port),
                # the secret shows in the local process list: Rasa reads it only from its
                # command line. Loopback binding keeps the API itself off the network.
                # one argument, "=" joined: a random secret may start with "-"
                f"--jwt-secret={settings.rasa_jwt_secret}",
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            lambda: _http_ok(
                f"{settings.rasa_url}/status", settings.rasa_jwt_secret, _model_loaded
            ),
        ),
        Service(
            "bot",
            [str(BOT_PYTHON), "-m", "bot"],
            # up when it is alive: its /readyz says whether Rasa and the action server are
            lambda: _http_ok(f"http://127.0.0.1:{settings.port}/healthz"),
        ),
    ]


def start(
    all_services: list[Service],
    settings: Settings,
    timeout: float = 120,
    env_overrides: dict[str, str] | None = None,
    logs: Path = LOGS,
) -> None:
    """Start every service, each logging to `logs/<name>.log`, and wait until all answer."""
    logs.mkdir(parents=True, exist_ok=True)
    env = child_environment(settings, env_overrides)
    for service in all_services:
        service.log = logs / f"{service.name}.log"
        service.spawn(env)
    started = time.monotonic()
    pending = list(all_services)
    while pending:
        for service in list(pending):
            assert service.process is not None
            if service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited during start-up:\n{_tail(service.log)}")
            if service.ready():
                print(f"  {service.name:8} ready after {time.monotonic() - started:5.1f} s")
                pending.remove(service)
        if time.monotonic() - started > timeout:
            names = ", ".join(s.name for s in pending)
            raise RuntimeError(f"not ready after {timeout:.0f} s: {names} (logs in {logs})")
        time.sleep(0.25)


def child_environment(
    settings: Settings, env_overrides: dict[str, str] | None = None
) -> dict[str, str]:
    return {**os.environ, **settings.rasa_environment(), **(env_overrides or {})}


def restart_delay(deaths: int) -> float:
    """How long to wait before starting a child that died `deaths` times in a row."""
    return float(min(RESTART_FIRST_DELAY * 2 ** min(deaths - 1, 20), RESTART_MAX_DELAY))


def keep_running(
    all_services: list[Service], env: dict[str, str], now: float | None = None
) -> list[str]:
    """One look at the children: a dead one is scheduled to start again after its backoff, one
    that is due is started. The others are left alone. What happened, for the log."""
    now = time.monotonic() if now is None else now
    said = []
    for service in all_services:
        if service.restart_at is not None:
            if now >= service.restart_at:
                service.restart_at = None
                service.spawn(env)
                said.append(f"{service.name} restarted (restart {service.restarts} in a row)")
            continue
        assert service.process is not None
        code = service.process.poll()
        if code is None:
            if now - service.started_at >= STABLE_SECONDS:
                service.restarts = 0
            continue
        service.restarts += 1
        delay = restart_delay(service.restarts)
        service.restart_at = now + delay
        said.append(
            f"{service.name} stopped unexpectedly (exit code {code}); restarting in {delay:.0f} s; "
            f"the others keep running. Its last lines:\n{_tail(service.log)}"
        )
    return said


def stop(all_services: list[Service]) -> None:
    for service in all_services:
        service.restart_at = None
        if service.process and service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGTERM)
    for service in all_services:
        if service.process:
            try:
                service.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(service.process.pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run() -> int:
    ensure_dotenv()
    settings = load_settings()
    (ROOT / "var").mkdir(exist_ok=True)
    model = train_if_changed()
    # demo customers and orders for the desk, on a fresh database only
    subprocess.run([str(BOT_PYTHON), "-m", "bot", "seed-demo"], cwd=ROOT, check=True)
    # demo desk accounts (DEMO_PAGES only), with the password ensure_dotenv wrote
    subprocess.run([str(BOT_PYTHON), "-m", "bot.ops.demo_desk"], cwd=ROOT, check=True)
    desk_hint = sign_in_hint(settings)
    all_services = services(settings, model)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("Starting the action server, the Rasa server and the bot service ...", flush=True)
    try:
        start(all_services, settings)
        print(
            f"\nFetch & Home virtual agent is running (logs in {LOGS.relative_to(ROOT)}/).\n"
            f"  demo shop    http://{settings.host}:{settings.port}/demo/"
            f" (the chat widget; ?as=C1001 browses as a demo customer)\n"
            f"  agent desk   http://{settings.host}:{settings.port}/desk/\n"
            f"               {desk_hint}\n"
            f"  supervisor   http://{settings.host}:{settings.port}/desk/supervisor\n"
            f"  bot service  http://{settings.host}:{settings.port}/readyz\n"
            f"  website API  http://{settings.host}:{settings.port}/api/conversations"
            f" (README, 'The bot service')\n"
            f"  Rasa server  {settings.rasa_url} (loopback only; API needs a signed token)\n"
            f"  Chat with the bot in a terminal, from another shell:  make shell\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        env = child_environment(settings)
        while True:
            for line in keep_running(all_services, env):
                print(line, flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping ...")
        return 0
    except RuntimeError as error:
        print(f"Start-up failed: {error}", file=sys.stderr)
        return 1
    finally:
        stop(all_services)


def shell() -> int:
    ensure_dotenv()
    settings = load_settings()
    model = train_if_changed()
    if not _http_ok(settings.action_health_url):
        print(
            "The action server is not running: start the system with `make run` in another shell."
        )
        return 1
    env = {**os.environ, **settings.rasa_environment()}
    command = [
        str(RASA_BIN / "rasa"),
        "shell",
        "--model",
        str(model),
        "--endpoints",
        "endpoints.yml",
        "--interface",
        "127.0.0.1",
        "--port",
        str(settings.rasa_port + 1),
    ]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.ops.launcher", description=__doc__)
    parser.add_argument("command", choices=["run", "train", "model-path", "shell"])
    args = parser.parse_args()
    try:
        if args.command == "train":
            train_if_changed()
            return 0
        if args.command == "model-path":
            print(model_path())
            return 0
        if args.command == "shell":
            return shell()
        return run()
    except SettingsError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(
            f"Failed: {' '.join(map(str, error.cmd))} exited with {error.returncode}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
