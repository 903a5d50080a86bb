"""market_data schema: bar history

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 16:33:16.164102
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bars',
    sa.Column('instrument_id', sa.String(length=129), nullable=False),
    sa.Column('spec', sa.String(length=16), nullable=False),
    sa.Column('ts_event', sa.BigInteger(), nullable=False, comment='bar close, UTC ns'),
    sa.Column('ts_open', sa.BigInteger(), nullable=True),
    sa.Column('open', sa.Numeric(), nullable=False),
    sa.Column('high', sa.Numeric(), nullable=False),
    sa.Column('low', sa.Numeric(), nullable=False),
    sa.Column('close', sa.Numeric(), nullable=False),
    sa.Column('volume', sa.Numeric(), nullable=False),
    sa.Column('vwap', sa.Numeric(), nullable=True),
    sa.Column('trade_count', sa.Integer(), nullable=True),
    sa.Column('ts_init', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('instrument_id', 'spec', 'ts_event'),
    schema='market_data',
    comment='every bar published on md.v1.bar.*, once (the primary key drops repeats)'
    )


def downgrade() -> None:
    op.drop_table('bars', schema='market_data')
