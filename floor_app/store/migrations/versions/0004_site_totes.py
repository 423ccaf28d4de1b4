"""totes: the site's totes, physical tote codes scanned per task, confirmed puts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_totes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.String(length=32), nullable=True),
        sa.Column("destination", sa.String(length=32), server_default="", nullable=False),
        sa.Column("cart", sa.String(length=16), server_default="", nullable=False),
        sa.Column("cart_position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("site_totes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_totes_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_totes_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_totes_cart"), ["cart"], unique=False)
    with op.batch_alter_table("totes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("destination", sa.String(length=32), server_default="", nullable=False)
        )
    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("put_tote", sa.String(length=16), server_default="", nullable=False)
        )
    # tote codes a task named before totes were scanned (T0001 ... by position) are not
    # physical totes: tasks not started yet have theirs scanned when they start
    op.execute(
        "UPDATE totes SET tote_id = '' WHERE task_id IN "
        "(SELECT task_id FROM pick_tasks WHERE state IN ('open', 'assigned'))"
    )
    # a tote of a finished task whose order still waits for packing holds that order
    conn = op.get_bind()
    held: dict[str, tuple[str, str, float]] = {}
    for code, order_id, task_id, at in conn.execute(
        sa.text(
            "SELECT t.tote_id, t.order_id, t.task_id, p.updated_at FROM totes t "
            "JOIN pick_tasks p ON p.task_id = t.task_id "
            "JOIN orders o ON o.order_id = t.order_id "
            "WHERE p.state = 'done' AND o.state IN ('picked', 'packing', 'held', 'short') "
            "AND t.tote_id GLOB 'T[0-9][0-9][0-9][0-9]' ORDER BY p.updated_at"
        )
    ):
        held[code] = (order_id, task_id, at)
    for code, (order_id, task_id, at) in held.items():
        conn.execute(
            sa.text(
                "INSERT INTO site_totes (code, state, order_id, task_id, destination, cart, "
                "cart_position, updated_at) VALUES (:code, 'holding', :order_id, :task_id, "
                "'', '', 0, :at)"
            ),
            {"code": code, "order_id": order_id, "task_id": task_id, "at": at},
        )


def downgrade() -> None:
    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.drop_column("put_tote")
    with op.batch_alter_table("totes", schema=None) as batch_op:
        batch_op.drop_column("destination")
    with op.batch_alter_table("site_totes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_totes_cart"))
        batch_op.drop_index(batch_op.f("ix_site_totes_order_id"))
        batch_op.drop_index(batch_op.f("ix_site_totes_state"))
    op.drop_table("site_totes")
