"""job: the arguments its current workflow was started with

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("workflow_args", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("job", schema=None) as batch_op:  # existing rows filled; no default
        batch_op.alter_column("workflow_args", existing_type=JSON, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("workflow_args")
