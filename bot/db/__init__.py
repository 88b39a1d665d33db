"""Storage: SQLAlchemy 2 typed models, the async engine, and units of work."""
