"""api key scope: read-only or full, optionally bound to one workspace

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:17:23.031559
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE = sa.Enum(
    "read_only",
    "full",
    name="api_key_scope",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def upgrade() -> None:
    # Existing keys keep the rights they had: FULL. The default only fills them in.
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", SCOPE, nullable=False, server_default=sa.text("'full'"))
        )
        batch_op.add_column(sa.Column("workspace_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_key_workspace_id"), ["workspace_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_key_workspace_id_workspace"),
            "workspace",
            ["workspace_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.alter_column("scope", existing_type=SCOPE, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_key_workspace_id_workspace"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_api_key_workspace_id"))
        batch_op.drop_column("workspace_id")
        batch_op.drop_constraint(batch_op.f("ck_api_key_api_key_scope"), type_="check")
        batch_op.drop_column("scope")
