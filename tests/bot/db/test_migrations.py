"""Alembic migrations go up, down to nothing, and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import Base


async def _tables(engine: Any) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    return names - {"alembic_version"}


async def test_migrations_upgrade_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        assert await _tables(engine) == set(Base.metadata.tables)
        async with engine.connect() as connection:
            drift = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        assert drift == []  # the migrations build exactly the schema the models describe

        def downgrade(connection: Any) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        assert await _tables(engine) == set()
        await upgrade(engine)
        assert "tickets" in await _tables(engine)
    finally:
        await engine.dispose()
