"""organizations kept apart: every unit, person, role, pairing kind and pairing belongs to one

Revision ID: 0004
Revises: 0003
"""

import re

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("unit", "role", "pairing_kind", "person", "pairing")
# SQLite's reflected unnamed constraints get these names, so that batch mode can drop them
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _existing_org_key(bind: sa.Connection) -> str:
    """A database written before organizations held one: the one its campaigns name."""
    for (text,) in bind.execute(sa.text("SELECT text FROM campaign_version ORDER BY id")):
        found = re.search(r"^organization:\s*([A-Za-z0-9][A-Za-z0-9._-]*)", text, re.M)
        if found:
            return found.group(1)
    return "default"


def upgrade() -> None:
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("responsible_roles", sa.JSON(), nullable=False),
        sa.Column("district_roles", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    org_id = None
    if bind.execute(sa.text("SELECT count(*) FROM unit")).scalar_one():
        bind.execute(
            sa.text(
                "INSERT INTO organization (key, name, responsible_roles, district_roles) "
                "VALUES (:k, '', '[]', '[]')"
            ),
            {"k": _existing_org_key(bind)},
        )
        org_id = bind.execute(sa.text("SELECT id FROM organization")).scalar_one()
    for table in TABLES:
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.add_column(sa.Column("org_id", sa.Integer(), nullable=True))
        if org_id is not None:
            bind.execute(sa.text(f"UPDATE {table} SET org_id = :o"), {"o": org_id})
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.alter_column("org_id", existing_type=sa.Integer(), nullable=False)
            batch.drop_constraint(f"{table}_code_key" if postgres else f"uq_{table}_code")
            batch.create_unique_constraint(f"uq_{table}_org_code", ["org_id", "code"])
            batch.create_index(f"ix_{table}_org_id", ["org_id"])
            batch.create_foreign_key(
                f"fk_{table}_org_id", "organization", ["org_id"], ["id"]
            )
    with op.batch_alter_table("campaign", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("org_id", sa.Integer(), nullable=True))
        batch.create_index("ix_campaign_org_id", ["org_id"])
        batch.create_foreign_key("fk_campaign_org_id", "organization", ["org_id"], ["id"])
    if org_id is not None:
        bind.execute(sa.text("UPDATE campaign SET org_id = :o"), {"o": org_id})


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_constraint("fk_campaign_org_id", type_="foreignkey")
        batch.drop_index("ix_campaign_org_id")
        batch.drop_column("org_id")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_org_id", type_="foreignkey")
            batch.drop_index(f"ix_{table}_org_id")
            batch.drop_constraint(f"uq_{table}_org_code", type_="unique")
            batch.create_unique_constraint(
                f"{table}_code_key" if op.get_bind().dialect.name == "postgresql"
                else f"uq_{table}_code",
                ["code"],
            )
            batch.drop_column("org_id")
    op.drop_table("organization")
