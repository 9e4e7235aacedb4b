"""ledger and inbox indexes (台账 at 100,000 items)

Measured with `make bench` (bench/ledger.py): the ledger sorted or filtered by deadline or
registration date, by one unit, by light (parts not yet reported by effective deadline, a partial
expression index; unfinished items by their own deadline, a partial index), and the inbox's first
page in due order and its count (which leaves out secret items the reader is not cleared for).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OPEN_PARTS = "reported_at IS NULL AND accepted_at IS NULL"
OPEN_ITEMS = "status NOT IN ('closed', 'rejected', 'terminated')"


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_deadline', ['deadline'], unique=False)
        batch_op.create_index('ix_items_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_items_classification', ['classification'], unique=False)
        batch_op.create_index('ix_items_open_deadline', ['deadline'], unique=False,
                              postgresql_where=sa.text(OPEN_ITEMS), sqlite_where=sa.text(OPEN_ITEMS))
    with op.batch_alter_table('item_units', schema=None) as batch_op:
        batch_op.create_index('ix_item_units_unit_item', ['unit_id', 'item_id'], unique=False)
    op.create_index('ix_item_units_open_deadline', 'item_units', [sa.text('coalesce(urge_limit, deadline)')],
                    unique=False, postgresql_where=sa.text(OPEN_PARTS), sqlite_where=sa.text(OPEN_PARTS))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_state_due', ['state', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_state_due')
    op.drop_index('ix_item_units_open_deadline', table_name='item_units')
    with op.batch_alter_table('item_units', schema=None) as batch_op:
        batch_op.drop_index('ix_item_units_unit_item')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_open_deadline')
        batch_op.drop_index('ix_items_classification')
        batch_op.drop_index('ix_items_created_at')
        batch_op.drop_index('ix_items_deadline')
