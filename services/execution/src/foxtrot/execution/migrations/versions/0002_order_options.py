"""execution schema: order options (trailing, iceberg) and order-list links on orders

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_COLUMNS = (
    sa.Column('trailing_offset', sa.Numeric(), nullable=True),
    sa.Column('trailing_offset_type', sa.String(length=16), server_default='PRICE', nullable=False),
    sa.Column('limit_offset', sa.Numeric(), nullable=True),
    sa.Column('display_qty', sa.Numeric(), nullable=True),
    sa.Column('contingency_type', sa.String(length=8), server_default='NONE', nullable=False),
    sa.Column('order_list_id', sa.String(length=64), nullable=True),
    sa.Column('linked_order_ids', postgresql.JSONB(), server_default='[]', nullable=False),
    sa.Column('parent_order_id', sa.String(length=64), nullable=True),
    sa.Column('working_status', sa.String(length=32), nullable=True,
              comment='under PENDING_UPDATE / PENDING_CANCEL: the state the order returns to'),
)


def upgrade() -> None:
    for column in _COLUMNS:
        op.add_column('orders', column, schema='execution')
    op.create_index('ix_execution_orders_order_list_id', 'orders', ['order_list_id'],
                    unique=False, schema='execution')


def downgrade() -> None:
    op.drop_index('ix_execution_orders_order_list_id', table_name='orders', schema='execution')
    for column in reversed(_COLUMNS):
        op.drop_column('orders', column.name, schema='execution')
