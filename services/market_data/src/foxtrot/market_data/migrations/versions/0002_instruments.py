"""market_data schema: instruments and their trading rules

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instruments',
    sa.Column('instrument_id', sa.String(length=129), nullable=False),
    sa.Column('base_currency', sa.String(length=64), nullable=False),
    sa.Column('quote_currency', sa.String(length=64), nullable=False),
    sa.Column('tick_size', sa.Numeric(), nullable=False),
    sa.Column('lot_size', sa.Numeric(), nullable=False),
    sa.Column('min_quantity', sa.Numeric(), nullable=False),
    sa.Column('max_quantity', sa.Numeric(), nullable=True, comment='null: no limit'),
    sa.Column('min_notional', sa.Numeric(), nullable=True, comment='null: no limit'),
    sa.Column('tradable', sa.Boolean(), nullable=False),
    sa.Column('ts_updated', sa.BigInteger(), nullable=False, comment='when the rules last changed, UTC ns'),
    sa.PrimaryKeyConstraint('instrument_id'),
    schema='market_data',
    comment='each instrument\'s current trading rules, as published on md.v1.instrument.*'
    )


def downgrade() -> None:
    op.drop_table('instruments', schema='market_data')
