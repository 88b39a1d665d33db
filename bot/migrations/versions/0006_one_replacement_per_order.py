"""one replacement per order

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Orders replaced more than once before this rule were real shipments and stay on record;
    # say which, rather than fail on the index with a bare constraint error.
    twice = op.get_bind().execute(
        sa.text(
            "SELECT replaces_order_id FROM orders WHERE replaces_order_id IS NOT NULL "
            "GROUP BY replaces_order_id HAVING count(*) > 1"
        )
    )
    orders = sorted(row[0] for row in twice)
    if orders:
        raise RuntimeError(
            "orders replaced more than once (review them, and unlink or merge the extra "
            f"replacements, before one replacement per order can be enforced): {orders}"
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("one_replacement_per_order", ["replaces_order_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("one_replacement_per_order")
