"""考核 scoring rules, leaders' praises (领导表扬) and issued bulletins (督查通报).

Revision ID: 0007
Revises: 0006
"""
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The defaults as of this revision (engine/services/assessment.py explains them); frozen here, as
# a migration must not change when the code does.
RULES = [
    ("on_time", "按期办结", Decimal("2"), 1),
    ("praised", "领导表扬", Decimal("3"), 2),
    ("late", "逾期办结", Decimal("-2"), 3),
    ("criticised", "通报批评", Decimal("-5"), 4),
    ("escalated", "移送纪委问责", Decimal("-10"), 5),
]


def upgrade() -> None:
    rules = op.create_table(
        "assessment_rules",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("points", sa.Numeric(6, 2), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(64), nullable=True),
    )
    op.bulk_insert(rules, [{"code": code, "name": name, "points": points, "active": True, "sort": sort,
                            "updated_at": None, "updated_by": None} for code, name, points, sort in RULES])
    op.create_table(
        "praises",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "unit_id"),
    )
    op.create_index("ix_praises_item_id", "praises", ["item_id"])
    op.create_index("ix_praises_unit_at", "praises", ["unit_id", "at"])
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("year", "seq"),
    )


def downgrade() -> None:
    op.drop_table("bulletins")
    op.drop_index("ix_praises_unit_at", table_name="praises")
    op.drop_index("ix_praises_item_id", table_name="praises")
    op.drop_table("praises")
    op.drop_table("assessment_rules")
