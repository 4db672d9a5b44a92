"""every listed (table, parent) pair has a (parent, created_at, id) index, in place of the
parent's single-column one: assets of a client, generations of a client or a campaign,
memberships and invitations of a workspace

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

# (table, parent column, the composite index's name)
PAIRS = (
    ("asset", "client_id", "ix_asset_client_created"),
    ("generation", "client_id", "ix_generation_client_created"),
    ("generation", "campaign_id", "ix_generation_campaign_created"),
    ("membership", "workspace_id", "ix_membership_workspace_created"),
    ("invitation", "workspace_id", "ix_invitation_workspace_created"),
)


def upgrade() -> None:
    for table, parent, name in PAIRS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [parent, "created_at", "id"], unique=False)
            batch_op.drop_index(batch_op.f(f"ix_{table}_{parent}"))


def downgrade() -> None:
    for table, parent, name in reversed(PAIRS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{parent}"), [parent], unique=False)
            batch_op.drop_index(name)
