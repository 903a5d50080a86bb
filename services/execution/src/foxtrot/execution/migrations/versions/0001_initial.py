"""execution schema: event log, orders, fills, positions, balances

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 15:25:46.019625
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('balances',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Numeric(), nullable=False),
    sa.Column('locked', sa.Numeric(), nullable=False),
    sa.Column('ts_last', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'currency'),
    schema='execution'
    )
    op.create_table('fills',
    sa.Column('trade_id', sa.String(length=128), nullable=False),
    sa.Column('client_order_id', sa.String(length=64), nullable=False),
    sa.Column('venue_order_id', sa.String(length=128), nullable=True),
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('instrument_id', sa.String(length=129), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('last_qty', sa.Numeric(), nullable=False),
    sa.Column('last_px', sa.Numeric(), nullable=False),
    sa.Column('commission', sa.Numeric(), nullable=False),
    sa.Column('commission_currency', sa.String(length=16), nullable=False),
    sa.Column('liquidity_side', sa.String(length=8), nullable=False),
    sa.Column('ts_event', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('trade_id'),
    schema='execution'
    )
    op.create_index(op.f('ix_execution_fills_client_order_id'), 'fills', ['client_order_id'], unique=False, schema='execution')
    op.create_table('order_events',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('message_id', sa.UUID(), nullable=False),
    sa.Column('causation_id', sa.UUID(), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('client_order_id', sa.String(length=64), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('ts_event', sa.BigInteger(), nullable=False),
    sa.Column('published', sa.Boolean(), server_default='false', nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('message_id'),
    schema='execution',
    comment='event log and outbox: every event execution emits, in order'
    )
    op.create_index(op.f('ix_execution_order_events_causation_id'), 'order_events', ['causation_id'], unique=False, schema='execution')
    op.create_index(op.f('ix_execution_order_events_client_order_id'), 'order_events', ['client_order_id'], unique=False, schema='execution')
    op.create_table('orders',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('client_order_id', sa.String(length=64), nullable=False),
    sa.Column('venue_order_id', sa.String(length=128), nullable=True),
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('instrument_id', sa.String(length=129), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('order_type', sa.String(length=32), nullable=False),
    sa.Column('time_in_force', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Numeric(), nullable=False),
    sa.Column('price', sa.Numeric(), nullable=True),
    sa.Column('trigger_price', sa.Numeric(), nullable=True),
    sa.Column('expire_time_ns', sa.BigInteger(), nullable=True),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('post_only', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('filled_qty', sa.Numeric(), nullable=False),
    sa.Column('avg_px', sa.Numeric(), nullable=True),
    sa.Column('ts_init', sa.BigInteger(), nullable=False),
    sa.Column('ts_last', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('client_order_id'),
    schema='execution'
    )
    op.create_index(op.f('ix_execution_orders_instrument_id'), 'orders', ['instrument_id'], unique=False, schema='execution')
    op.create_index(op.f('ix_execution_orders_status'), 'orders', ['status'], unique=False, schema='execution')
    op.create_index(op.f('ix_execution_orders_strategy_id'), 'orders', ['strategy_id'], unique=False, schema='execution')
    op.create_table('positions',
    sa.Column('strategy_id', sa.String(length=64), nullable=False),
    sa.Column('instrument_id', sa.String(length=129), nullable=False),
    sa.Column('quantity', sa.Numeric(), nullable=False),
    sa.Column('avg_px_open', sa.Numeric(), nullable=False),
    sa.Column('cost_open', sa.Numeric(), nullable=False, comment='exact cost of the open quantity'),
    sa.Column('realized_pnl', sa.Numeric(), nullable=False),
    sa.Column('commissions', sa.Numeric(), nullable=False),
    sa.Column('currency', sa.String(length=16), nullable=False),
    sa.Column('ts_opened', sa.BigInteger(), nullable=True),
    sa.Column('ts_last', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('strategy_id', 'instrument_id'),
    schema='execution'
    )
    op.create_table('processed_messages',
    sa.Column('message_id', sa.UUID(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('ts_processed', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('message_id'),
    schema='execution',
    comment='inbox: every command handled, so a redelivery is recognised'
    )


def downgrade() -> None:
    op.drop_table('processed_messages', schema='execution')
    op.drop_table('positions', schema='execution')
    op.drop_index(op.f('ix_execution_orders_strategy_id'), table_name='orders', schema='execution')
    op.drop_index(op.f('ix_execution_orders_status'), table_name='orders', schema='execution')
    op.drop_index(op.f('ix_execution_orders_instrument_id'), table_name='orders', schema='execution')
    op.drop_table('orders', schema='execution')
    op.drop_index(op.f('ix_execution_order_events_client_order_id'), table_name='order_events', schema='execution')
    op.drop_index(op.f('ix_execution_order_events_causation_id'), table_name='order_events', schema='execution')
    op.drop_table('order_events', schema='execution')
    op.drop_index(op.f('ix_execution_fills_client_order_id'), table_name='fills', schema='execution')
    op.drop_table('fills', schema='execution')
    op.drop_table('balances', schema='execution')
