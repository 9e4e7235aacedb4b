"""单位层级: units get a parent, a category (县直部门/乡镇/…), an active flag and a 督查联络员; items can be
withdrawn (撤销) with a reason.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OPEN_BEFORE = "status NOT IN ('closed', 'rejected', 'terminated')"
# A withdrawn item is finished too: the ledger's light filter names every finished status, and the
# partial index must say the same for the planner to use it.
OPEN_ITEMS = "status NOT IN ('closed', 'rejected', 'terminated', 'withdrawn')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES in place; rebuilding `units` (batch mode) would drop a
        # table others refer to while foreign keys are enforced.
        op.execute("ALTER TABLE units ADD COLUMN parent_id VARCHAR(64) REFERENCES units (id)")
        op.execute("ALTER TABLE units ADD COLUMN liaison_id INTEGER REFERENCES users (id)")
    else:
        op.add_column("units", sa.Column("parent_id", sa.String(64), nullable=True))
        op.add_column("units", sa.Column("liaison_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_units_parent_id_units", "units", "units", ["parent_id"], ["id"])
        op.create_foreign_key("fk_units_liaison_id_users", "units", "users", ["liaison_id"], ["id"])
    op.add_column("units", sa.Column("category", sa.String(20), nullable=True))
    op.add_column("units", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")))
    op.create_index("ix_units_parent_id", "units", ["parent_id"])
    op.add_column("items", sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    op.add_column("items", sa.Column("withdrawn_by", sa.String(64), nullable=True))
    op.add_column("items", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    _open_deadline_index(OPEN_ITEMS)


def downgrade() -> None:
    op.execute("UPDATE items SET status = 'terminated' WHERE status = 'withdrawn'")
    _open_deadline_index(OPEN_BEFORE)
    for column in ("withdrawn_at", "withdrawn_by", "withdrawn_reason"):
        op.drop_column("items", column)
    op.drop_index("ix_units_parent_id", table_name="units")
    if op.get_bind().dialect.name == "sqlite":
        for column in ("active", "category", "liaison_id", "parent_id"):
            op.execute(f"ALTER TABLE units DROP COLUMN {column}")
    else:
        op.drop_constraint("fk_units_liaison_id_users", "units", type_="foreignkey")
        op.drop_constraint("fk_units_parent_id_units", "units", type_="foreignkey")
        for column in ("active", "category", "liaison_id", "parent_id"):
            op.drop_column("units", column)


def _open_deadline_index(where: str) -> None:
    op.drop_index("ix_items_open_deadline", table_name="items")
    op.create_index("ix_items_open_deadline", "items", ["deadline"], unique=False,
                    postgresql_where=sa.text(where), sqlite_where=sa.text(where))
