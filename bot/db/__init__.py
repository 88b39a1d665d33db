"""Storage: SQLAlchemy 2 typed models (models.py), the async engine with each database's
settings for correct concurrent writes (engine.py), and bringing the schema to the newest Alembic
revision (migrate.py; the revisions are in bot/migrations/).

Imports nothing of the service but bot.settings; every room reads and writes through it.
"""
