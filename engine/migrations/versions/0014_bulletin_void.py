"""通报: a bulletin can be voided (作废) with a reason, and its number is not reused.

The row stays (its number stays taken); who voided it, when and why are kept beside it.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bulletins") as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bulletins") as batch_op:
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_by")
        batch_op.drop_column("voided_at")
