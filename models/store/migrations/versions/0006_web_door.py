"""the web door: sign-in links, sessions, sign-in attempts, forms handled once; an
organization's revision; the channels that took a reminder; the scheme of an audit event's hash (2: its id included)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import models.store.instant

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _instant(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, models.store.instant.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("scheme", sa.Integer(), nullable=True))
    with op.batch_alter_table("organization") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "web_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        _instant("created_at", False),
        _instant("expires_at", False),
        _instant("used_at", True),
    )
    op.create_index("ix_web_link_person_id", "web_link", ["person_id"])
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        _instant("created_at", False),
        _instant("expires_at", False),
        _instant("revoked_at", True),
    )
    op.create_index("ix_web_session_person_id", "web_session", ["person_id"])
    op.create_table(
        "web_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client", sa.String(64), nullable=False),
        _instant("at", False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_web_attempt_client_at", "web_attempt", ["client", "at"])
    op.create_table(
        "reminder_channel",
        sa.Column("reminder_id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        _instant("delivered_at", False),
    )
    op.create_table(
        "web_form",
        sa.Column("nonce_hash", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        _instant("at", False),
        sa.Column("outcome", sa.String(2000), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("scheme")
    op.drop_table("web_form")
    op.drop_table("reminder_channel")
    op.drop_table("web_attempt")
    op.drop_table("web_session")
    op.drop_table("web_link")
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("revision")
