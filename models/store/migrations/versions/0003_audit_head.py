"""the audit chain's head, an index to find a subject's events, the day of a check

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # a chain written before the head existed: its head is its last event as it is now
    op.execute(
        "INSERT INTO audit_head (id, last_id, last_hash, events) "
        "SELECT 1, e.id, e.hash, (SELECT count(*) FROM audit_event) FROM audit_event e "
        "WHERE e.id = (SELECT max(id) FROM audit_event)"
    )
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_key"])
    with op.batch_alter_table("inspection_sample") as batch:
        batch.add_column(sa.Column("checked_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspection_sample") as batch:
        batch.drop_column("checked_on")
    op.drop_index("ix_audit_event_entity", table_name="audit_event")
    op.drop_table("audit_head")
