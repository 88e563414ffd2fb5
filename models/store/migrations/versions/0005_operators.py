"""an organization's operators: who may run the commands that act for a person

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("operators", sa.JSON(), nullable=True))
    op.execute("UPDATE organization SET operators = '[]'")
    with op.batch_alter_table("organization") as batch:
        batch.alter_column("operators", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("operators")
