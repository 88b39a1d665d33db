"""Demo desk accounts on a fresh machine: created once, with a password kept in .env."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from dotenv import dotenv_values
from sqlalchemy import select

from bot.db.models import User
from bot.ops import demo_desk, launcher
from bot.services import SERVICES
from bot.settings import ROOT, load_settings

PASSWORD = "demo password 123"
SECRETS = {
    name: name[0] * 40 for name in ("RASA_JWT_SECRET", "BOT_SECRET", "CUSTOMER_IDENTITY_SECRET")
}


async def test_demo_accounts_are_created_once(client: TestClient) -> None:
    async with client.app[SERVICES].sessions.begin() as session:
        assert await demo_desk.ensure_accounts(session, PASSWORD) == ["ana", "sam", "grace", "dee"]
    async with client.app[SERVICES].sessions.begin() as session:
        assert await demo_desk.ensure_accounts(session, PASSWORD) == []
        roles = dict((await session.execute(select(User.username, User.role))).all())
    assert roles == {"ana": "agent", "sam": "senior", "grace": "supervisor", "dee": "designer"}
    for username in ("grace", "dee"):
        login = await client.post(
            "/desk/api/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status == 200


def test_the_run_commands_dotenv_gives_the_password_the_banner_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what `make run` does on a fresh clone: .env from .env.example, then settings read from it
    (tmp_path / ".env.example").write_text((ROOT / ".env.example").read_text())
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    launcher.ensure_dotenv()
    env = dotenv_values(tmp_path / ".env")
    password = str(env["DEMO_DESK_PASSWORD"])
    assert len(password) >= 12
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0
    settings = load_settings({k: v or "" for k, v in env.items()})
    hint = demo_desk.sign_in_hint(settings)
    assert password in hint and "grace (supervisor)" in hint
    assert "password" not in demo_desk.sign_in_hint(load_settings({**env, "DEMO_PAGES": "off"}))


def test_no_demo_password_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEMO_DESK_PASSWORD", "")
    assert demo_desk.main() == 2
    assert "DEMO_DESK_PASSWORD is empty" in capsys.readouterr().err
    monkeypatch.setenv("DEMO_DESK_PASSWORD", "short")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    assert demo_desk.main() == 2
    assert "at least" in capsys.readouterr().err
