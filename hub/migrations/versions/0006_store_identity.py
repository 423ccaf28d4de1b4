"""store identity: which store a device syncs from, and its events found by id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_cursors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("store_id", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("stale", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_device_event", ["device_id", "event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_device_event")
    with op.batch_alter_table("device_cursors", schema=None) as batch_op:
        batch_op.drop_column("stale")
        batch_op.drop_column("store_id")
