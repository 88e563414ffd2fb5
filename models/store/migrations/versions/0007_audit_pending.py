"""events written with their change and chained after the commit: audit_pending

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import models.store.instant

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", models.store.instant.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_pending")).scalar()
    if waiting:  # they would be lost: `campaign audit verify` chains them first
        raise RuntimeError(f"{waiting} audit events are not yet chained; run campaign audit verify")
    op.drop_table("audit_pending")
