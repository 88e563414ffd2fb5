"""checklist items of recurring obligations carry their window

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: a column add is a catalogue change on both databases, however
    # many items exist. Items written before this have no window (as one-off items).
    with op.batch_alter_table("checklist_item") as batch:
        batch.add_column(sa.Column("opens_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("closes_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checklist_item") as batch:
        batch.drop_column("closes_on")
        batch.drop_column("opens_on")
