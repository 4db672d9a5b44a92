"""every listed (table, parent) pair has a (parent, created_at, id) index, and clients and
campaigns a (parent, name, id) one; the parents' single-column indexes, which a composite
index now leads with, are dropped

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the composite index's name, its columns)
CREATED = (
    ("asset", "ix_asset_client_created", ("client_id", "created_at", "id")),
    ("generation", "ix_generation_client_created", ("client_id", "created_at", "id")),
    ("generation", "ix_generation_campaign_created", ("campaign_id", "created_at", "id")),
    ("membership", "ix_membership_workspace_created", ("workspace_id", "created_at", "id")),
    ("invitation", "ix_invitation_workspace_created", ("workspace_id", "created_at", "id")),
    ("client", "ix_client_workspace_name", ("workspace_id", "name", "id")),
    ("campaign", "ix_campaign_client_name", ("client_id", "name", "id")),
)
# (table, column) whose single-column index a composite one makes redundant
DROPPED = (
    ("client", "workspace_id"),
    ("campaign", "client_id"),
    ("campaign", "workspace_id"),
    ("asset", "workspace_id"),
    ("asset", "client_id"),
    ("asset", "campaign_id"),
    ("generation", "workspace_id"),
    ("generation", "client_id"),
    ("generation", "campaign_id"),
    ("job", "workspace_id"),
    ("membership", "workspace_id"),
    ("invitation", "workspace_id"),
)


def upgrade() -> None:
    for table, name, columns in CREATED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, list(columns), unique=False)
    for table, column in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))


def downgrade() -> None:
    for table, column in reversed(DROPPED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
    for table, name, _columns in reversed(CREATED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
