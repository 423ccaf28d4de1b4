"""receiving: receipts from advance ship notices or blind, their lines and counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("supplier", sa.String(length=128), nullable=False),
        sa.Column("dock", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("to_put_away", sa.Integer(), nullable=False),
        sa.Column("put_away", sa.Integer(), nullable=False),
        sa.Column("announced", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("receipt_id", name=op.f("pk_receipts")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_reference"), ["reference"], unique=False)
        batch_op.create_index(batch_op.f("ix_receipts_state"), ["state"], unique=False)
    op.create_table(
        "receipt_lines",
        sa.Column("receipt_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("expiry", sa.String(length=10), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.Column("put_away", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", "line_no", name=op.f("pk_receipt_lines")),
    )
    op.create_table(
        "receipt_counts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("receipt_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("expiry", sa.String(length=10), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("sscc", sa.String(length=18), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_counts")),
    )
    with op.batch_alter_table("receipt_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipt_counts_receipt_id"), ["receipt_id"])
        batch_op.create_index(batch_op.f("ix_receipt_counts_lot"), ["lot"])
        batch_op.create_index(batch_op.f("ix_receipt_counts_serial"), ["serial"])


def downgrade() -> None:
    op.drop_table("receipt_counts")
    op.drop_table("receipt_lines")
    op.drop_table("receipts")
