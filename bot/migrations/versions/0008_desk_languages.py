"""the languages each desk user speaks

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:00:00.000000

The queue offers a conversation first to agents who speak its language; everyone existing is
taken to speak English.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("languages", sa.String(length=64), server_default="en", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("languages")
