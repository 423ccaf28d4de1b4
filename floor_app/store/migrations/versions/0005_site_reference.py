"""site reference: items' tracking and shelf life, barcodes' pack quantities, pick lots

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
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
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lot_tracked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("serial_tracked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("shelf_life_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("barcodes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pack_qty", sa.Integer(), server_default="1", nullable=False)
        )


    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lot_tracked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("lot", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("expiry", sa.String(length=10), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("serial_tracked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.drop_column("serial_tracked")
        batch_op.drop_column("expiry")
        batch_op.drop_column("lot")
        batch_op.drop_column("lot_tracked")
    with op.batch_alter_table("barcodes", schema=None) as batch_op:
        batch_op.drop_column("pack_qty")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_column("shelf_life_days")
        batch_op.drop_column("serial_tracked")
        batch_op.drop_column("lot_tracked")
