"""A real action server, Rasa server and bot service on free loopback ports.

The whole suite runs twice: on SQLite with Rasa's in-memory lock store (one machine), and on
PostgreSQL with the Redis lock store (production). TEST_POSTGRES_URL and TEST_REDIS_URL say where
those are (`make test` sets both for the local servers); set them empty to skip that half.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.ops import launcher
from bot.settings import ROOT, Settings, load_settings
from tests.bot.processes import NO_RATE_LIMITS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stack_environment(var: Path) -> dict[str, str]:
    """The three processes' settings: free loopback ports, fresh secrets, SQLite in `var`."""
    return {
        "BOT_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
        "RASA_JWT_SECRET": secrets.token_urlsafe(32),
        "BOT_SECRET": secrets.token_urlsafe(32),
        "CUSTOMER_IDENTITY_SECRET": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite+aiosqlite:///{var}/bot.db",
        "RASA_TRACKER_STORE_URL": f"sqlite:///{var}/tracker.db",
        **NO_RATE_LIMITS,
    }


@contextmanager
def running(
    var: Path, env: dict[str, str], without: tuple[str, ...] = (), timeout: float = 180
) -> Iterator[Settings]:
    """The trained model's processes (all but `without`) started with `env`, until the end."""
    model = launcher.model_path()
    if not model.exists():
        pytest.fail(f"no model for the current data ({model.name}): run `make model` first")
    settings = load_settings(env)
    services = [s for s in launcher.services(settings, model) if s.name not in without]
    try:
        launcher.start(services, settings, timeout=timeout, env_overrides=env, logs=var / "log")
        yield settings
    finally:
        launcher.stop(services)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def production_stores() -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL databases for Rasa's tracker store and the service; Redis for locks."""
    postgres, redis = os.environ.get("TEST_POSTGRES_URL"), os.environ.get("TEST_REDIS_URL")
    if not postgres or not redis:
        pytest.skip("TEST_POSTGRES_URL and TEST_REDIS_URL not set: PostgreSQL/Redis half skipped")
    database = f"rasa_e2e_{uuid.uuid4().hex[:8]}"
    service_database = f"{database}_service"
    for name in (database, service_database):
        asyncio.run(_admin(postgres, f'CREATE DATABASE "{name}"'))
    redis_parts = urlsplit(redis)
    try:
        yield {
            "DATABASE_URL": _with_database(postgres, service_database).replace(
                "postgresql://", "postgresql+asyncpg://", 1
            ),
            "RASA_TRACKER_STORE_URL": _with_database(postgres, database),
            "RASA_LOCK_STORE_TYPE": "redis",
            "RASA_LOCK_STORE_REDIS_HOST": redis_parts.hostname or "127.0.0.1",
            "RASA_LOCK_STORE_REDIS_PORT": str(redis_parts.port or 6379),
        }
    finally:
        for name in (database, service_database):
            asyncio.run(_admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgres+redis"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    var = tmp_path_factory.mktemp("var")
    env = stack_environment(var)
    if request.param == "postgres+redis":
        env |= request.getfixturevalue("production_stores")
    with running(var, env) as settings:
        yield settings


def domain_text(response: str, language: str = "en") -> str:
    """A response's text in a language: English is the variation without a condition."""
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for variation in domain["responses"][response]:
        values = [c.get("value") for c in variation.get("condition", ()) if c["name"] == "language"]
        if values == ([language] if language != "en" else []):
            return str(variation["text"])
    raise KeyError(f"{response} has no {language} text")
