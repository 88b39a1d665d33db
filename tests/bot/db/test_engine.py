"""The database's readiness check (/readyz), on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.db.engine import answers, create_engine, session_factory


async def test_a_database_that_answers_is_ready(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await answers(session_factory(engine))
    finally:
        await engine.dispose()


async def test_a_database_that_cannot_be_reached_is_not(database_url: str) -> None:
    unreachable = (
        "sqlite+aiosqlite:////nonexistent-folder/bot.db"
        if database_url.startswith("sqlite")
        else "postgresql+asyncpg://postgres@127.0.0.1:1/postgres"
    )
    engine = create_engine(unreachable)
    try:
        assert not await answers(session_factory(engine), timeout=5)
    finally:
        await engine.dispose()
