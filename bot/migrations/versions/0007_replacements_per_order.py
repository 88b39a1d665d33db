"""replacements per order from the policy

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00.000000

How many times an order may be replaced is policy.yml's (authority.replacements_per_order), no
longer a unique index: replacement n of order X is order X-Rn, so the primary key still settles
two people replacing one order at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("one_replacement_per_order")
        batch_op.create_index("replacements_of_order", ["replaces_order_id"], unique=False)


def downgrade() -> None:
    # 0006's unique index holds one replacement per order at most: say which orders have more
    # (a policy that allowed them), rather than fail on the index with a bare constraint error
    twice = op.get_bind().execute(
        sa.text(
            "SELECT replaces_order_id FROM orders WHERE replaces_order_id IS NOT NULL "
            "GROUP BY replaces_order_id HAVING count(*) > 1"
        )
    )
    orders = sorted(row[0] for row in twice)
    if orders:
        raise RuntimeError(f"orders replaced more than once, which 0006 cannot hold: {orders}")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("replacements_of_order")
        batch_op.create_index("one_replacement_per_order", ["replaces_order_id"], unique=True)
