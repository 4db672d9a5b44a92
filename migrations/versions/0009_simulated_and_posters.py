"""simulated generations and cost entries; a video's full-size poster frame

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:53:37.581052
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIMULATED = ("generation", "cost_entry")


def upgrade() -> None:
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poster_key", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_asset_poster_key"), ["poster_key"], unique=False)
    for table in SIMULATED:  # existing rows were all run (and charged) for real
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.false())
            )
        with op.batch_alter_table(table, schema=None) as batch_op:  # filled; no default
            batch_op.alter_column("simulated", existing_type=sa.Boolean(), server_default=None)


def downgrade() -> None:
    for table in reversed(SIMULATED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("simulated")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_poster_key"))
        batch_op.drop_column("poster_key")
