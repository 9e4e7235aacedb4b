"""The ledger on PostgreSQL at 100,000 items: text search through trigram indexes on items' title and
content (pg_trgm: a search reads the matching rows, not every item), and the light filter's counts from
the indexes alone (the open items' and open parts' partial indexes carry what the filter and the
visibility rule read, so PostgreSQL counts without visiting the table's rows).

pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

COLUMNS = ("title", "content")
OPEN_ITEM = "status NOT IN ('closed', 'rejected', 'terminated', 'withdrawn')"
OPEN_PART = "reported_at IS NULL AND accepted_at IS NULL"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.create_index(f"ix_items_{column}_trgm", "items", [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})
    # An index-only scan of an expression index needs the expression's own columns in the index too.
    _partial_indexes(item_include=["id", "classification", "created_by"],
                     part_include=["item_id", "urge_limit", "deadline"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.drop_index(f"ix_items_{column}_trgm", table_name="items")
    _partial_indexes(item_include=[], part_include=[])


def _partial_indexes(item_include: list, part_include: list) -> None:
    op.drop_index("ix_items_open_deadline", table_name="items")
    op.create_index("ix_items_open_deadline", "items", ["deadline"], postgresql_where=sa.text(OPEN_ITEM),
                    postgresql_include=item_include)
    op.drop_index("ix_item_units_open_deadline", table_name="item_units")
    op.create_index("ix_item_units_open_deadline", "item_units", [sa.text("coalesce(urge_limit, deadline)")],
                    postgresql_where=sa.text(OPEN_PART), postgresql_include=part_include)
