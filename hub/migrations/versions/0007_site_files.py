"""site files: items' barcodes with pack quantities, lot and serial tracking, serials, lots
picked

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
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
    op.create_table(
        "sku_barcodes",
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("pack_qty", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("gtin", name=op.f("pk_sku_barcodes")),
    )
    with op.batch_alter_table("sku_barcodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sku_barcodes_sku"), ["sku"], unique=False)
    # every SKU's own GTIN is its first unit barcode
    op.execute("INSERT INTO sku_barcodes (gtin, sku, pack_qty) SELECT gtin, sku, 1 FROM skus")
    op.create_table(
        "serials",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=32), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("sku", "serial", name=op.f("pk_serials")),
    )
    with op.batch_alter_table("serials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_serials_location"), ["location"], unique=False)

    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lot_tracked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("lot", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("expiry", sa.String(length=10), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("serial_tracked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "lot_picks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("substituted", sa.Boolean(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_picks")),
    )
    with op.batch_alter_table("lot_picks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lot_picks_lot"), ["lot"], unique=False)
        batch_op.create_index(batch_op.f("ix_lot_picks_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lot_picks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lot_picks_order_id"))
        batch_op.drop_index(batch_op.f("ix_lot_picks_lot"))
    op.drop_table("lot_picks")
    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.drop_column("serial_tracked")
        batch_op.drop_column("expiry")
        batch_op.drop_column("lot")
        batch_op.drop_column("lot_tracked")
    with op.batch_alter_table("serials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_serials_location"))
    op.drop_table("serials")
    with op.batch_alter_table("sku_barcodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sku_barcodes_sku"))
    op.drop_table("sku_barcodes")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_column("shelf_life_days")
        batch_op.drop_column("serial_tracked")
        batch_op.drop_column("lot_tracked")
