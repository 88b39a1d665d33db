"""Alembic environment: runs on the connection bot.db.migrate passes in, or on DATABASE_URL."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context

from bot.db.engine import create_engine
from bot.db.models import Base, UTCDateTime

config = context.config


def render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our UTC column type into migrations as what it is in the schema."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: Any) -> None:
    # batch mode lets later migrations alter SQLite tables (it has no ALTER COLUMN)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from bot.settings import load_settings

    asyncio.run(
        run_on_url(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
    )
