"""job_event: a workspace-wide sequence in commit order

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:07:49.147514
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Existing events are numbered per workspace in the order they were written.
BACKFILL = """
UPDATE job_event SET workspace_seq = (
    SELECT count(*) FROM job_event AS earlier
    WHERE earlier.workspace_id = job_event.workspace_id
      AND (earlier.created_at < job_event.created_at
           OR (earlier.created_at = job_event.created_at AND earlier.id <= job_event.id))
)
"""


def upgrade() -> None:
    with op.batch_alter_table("job_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_seq", sa.Integer(), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("job_event", schema=None) as batch_op:
        batch_op.alter_column("workspace_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_job_event_workspace_id_workspace_seq"), ["workspace_id", "workspace_seq"]
        )


def downgrade() -> None:
    with op.batch_alter_table("job_event", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_job_event_workspace_id_workspace_seq"), type_="unique"
        )
        batch_op.drop_column("workspace_seq")
