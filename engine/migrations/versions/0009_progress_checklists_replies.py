"""月度进展 (monthly progress) and its month-end reminders, 六有 checklists, and the replies and
satisfaction of 省长信箱 / 人大建议 / 政协提案 items.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CHECKS = ("plan", "measures", "ledger", "leader", "tasks", "report")


def upgrade() -> None:
    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("history", JSON, nullable=False),
        sa.UniqueConstraint("item_id", "unit_id", "month"),
    )
    op.create_index("ix_progress_reports_month_unit", "progress_reports", ["month", "unit_id"])
    op.create_table(
        "progress_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("unit_id", "month"),
    )
    checks = []
    for name in CHECKS:
        checks += [sa.Column(name, sa.Boolean(), nullable=False),
                   sa.Column(f"{name}_note", sa.String(500), nullable=False)]
    op.create_table(
        "checklists",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.id"), nullable=False),
        *checks,
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "unit_id"),
    )
    op.create_table(
        "source_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("requester_name", sa.String(100), nullable=False),
        sa.Column("requester_contact", sa.String(200), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_by", sa.String(64), nullable=True),
        sa.Column("satisfaction", sa.String(20), nullable=True),
        sa.Column("satisfaction_on", sa.Date(), nullable=True),
        sa.Column("satisfaction_by", sa.String(64), nullable=True),
        sa.Column("satisfaction_note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("source_replies")
    op.drop_table("checklists")
    op.drop_table("progress_reminders")
    op.drop_index("ix_progress_reports_month_unit", table_name="progress_reports")
    op.drop_table("progress_reports")
