"""scene: a CANCELLED status for scenes whose job stopped before they were finished;
asset: an idempotency key, unique in its workspace

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("pending", "image_processing", "image_ready", "video_processing", "video_ready", "failed")
AFTER = (*BEFORE, "cancelled")


def _allow(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("scene", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_scene_scene_status"), type_="check")
        batch_op.create_check_constraint("scene_status", f"status IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_asset_workspace_id_idempotency_key"), ["workspace_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_asset_workspace_id_idempotency_key"), type_="unique"
        )
        batch_op.drop_column("idempotency_key")
    op.execute("UPDATE scene SET status = 'failed' WHERE status = 'cancelled'")
    _allow(BEFORE)
