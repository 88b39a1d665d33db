"""Demo desk accounts, so the desk can be tried on a fresh machine: `python -m bot.ops.demo_desk`.

`make run` calls it. While DEMO_PAGES is on it creates, once, an agent (ana), a senior (sam), a
supervisor (grace) and a conversation designer (dee) sharing one password: DEMO_DESK_PASSWORD
from the environment or .env (the run command writes a random one there on first start, with the
other secrets). A production desk turns DEMO_PAGES off and creates real accounts with
`python -m bot users create`.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import User
from bot.desk.staff import StaffError, create_user
from bot.settings import Settings, SettingsError, load_settings

ACCOUNTS = (
    ("ana", "Ana Souza", "agent"),
    ("sam", "Sam Okoro", "senior"),
    ("grace", "Grace Lin", "supervisor"),
    ("dee", "Dee Novak", "designer"),
)


async def ensure_accounts(session: AsyncSession, password: str) -> list[str]:
    """Create the demo accounts that do not exist yet; returns their usernames."""
    made = []
    for username, name, role in ACCOUNTS:
        if await session.scalar(select(User.id).where(User.username == username)) is None:
            await create_user(
                session, username=username, display_name=name, role=role, password=password
            )
            made.append(username)
    return made


def sign_in_hint(settings: Settings) -> str:
    """How to sign in to the desk, for the run command's banner."""
    if not settings.demo_pages:
        return "sign in with your desk account"
    names = ", ".join(f"{u} ({role})" for u, _, role in ACCOUNTS)
    return f"sign in as {names}; password {settings.demo_desk_password} (DEMO_DESK_PASSWORD)"


async def _create(settings: Settings, password: str) -> list[str]:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
        async with session_factory(engine).begin() as session:
            return await ensure_accounts(session, password)
    finally:
        await engine.dispose()


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if not settings.demo_pages:
        return 0
    if not settings.demo_desk_password:
        print(
            "Error: DEMO_DESK_PASSWORD is empty: set one in .env (`make run` writes a random one "
            "on first start) or turn DEMO_PAGES off",
            file=sys.stderr,
        )
        return 2
    try:
        made = asyncio.run(_create(settings, settings.demo_desk_password))
    except StaffError as error:
        print(f"Error: DEMO_DESK_PASSWORD: {error}", file=sys.stderr)
        return 2
    if made:
        print(f"Created demo desk accounts: {', '.join(made)} (password: DEMO_DESK_PASSWORD).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
