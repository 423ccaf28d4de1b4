"""totes: the site's totes (site data) and where each task's totes go

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_totes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("cart", sa.String(length=16), nullable=False),
        sa.Column("cart_position", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_site_totes")),
    )
    with op.batch_alter_table("site_totes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_totes_order_id"), ["order_id"], unique=False)
    with op.batch_alter_table("totes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("destination", sa.String(length=32), server_default="", nullable=False)
        )
    # the placeholders tasks named before totes were scanned ("PT-000001-T1") are not
    # physical totes: positions of tasks not started have theirs scanned when they start
    op.execute(
        "UPDATE totes SET tote_id = '' WHERE task_id IN "
        "(SELECT task_id FROM pick_tasks WHERE state IN ('open', 'assigned'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("totes", schema=None) as batch_op:
        batch_op.drop_column("destination")
    with op.batch_alter_table("site_totes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_totes_order_id"))
    op.drop_table("site_totes")
