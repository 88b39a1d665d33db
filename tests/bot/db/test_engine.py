"""The database's readiness check (/readyz), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from bot.db.engine import answers, create_engine, session_factory


async def test_a_database_that_answers_is_ready(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await answers(session_factory(engine))
    finally:
        await engine.dispose()


async def test_a_database_that_cannot_answer_is_not(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        broken = tmp_path / "not-a-database.db"
        broken.write_bytes(b"this is no SQLite file " * 100)
        url = f"sqlite+aiosqlite:///{broken}"
    else:
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/postgres"  # nothing listens there
    engine = create_engine(url)
    try:
        assert not await answers(session_factory(engine), timeout=5)
    finally:
        await engine.dispose()
