"""A real action server, Rasa server and bot service on free loopback ports, for the session."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import launcher
from bot.settings import ROOT, Settings, load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    model = launcher.model_path()
    if not model.exists():
        pytest.fail(f"no model for the current data ({model.name}): run `make model` first")
    var = tmp_path_factory.mktemp("var")
    settings = load_settings(
        {
            "BOT_PORT": str(free_port()),
            "RASA_PORT": str(free_port()),
            "ACTION_PORT": str(free_port()),
            "RASA_JWT_SECRET": secrets.token_urlsafe(24),
            "DATABASE_URL": f"sqlite+aiosqlite:///{var}/bot.db",
            "RASA_TRACKER_STORE_URL": f"sqlite:///{var}/tracker.db",
            "POLICY_FILE": str(ROOT / "policy.yml"),
        }
    )
    services = launcher.services(settings, model)
    try:
        launcher.start(
            services, settings, timeout=180, env_overrides=_env_for(settings), logs=var / "log"
        )
        yield settings
    finally:
        launcher.stop(services)


def _env_for(settings: Settings) -> dict[str, str]:
    """The bot service process reads its own settings from the environment."""
    return {
        "BOT_PORT": str(settings.port),
        "RASA_PORT": str(settings.rasa_port),
        "ACTION_PORT": str(settings.action_port),
        "RASA_JWT_SECRET": settings.rasa_jwt_secret,
        "DATABASE_URL": settings.database_url,
        "RASA_TRACKER_STORE_URL": settings.rasa_tracker_store_url,
    }


def domain_text(response: str) -> str:
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return str(domain["responses"][response][0]["text"])


__all__ = ["Path", "domain_text", "free_port", "stack"]
