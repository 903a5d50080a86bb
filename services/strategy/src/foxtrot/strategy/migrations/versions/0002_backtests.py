"""strategy schema: backtests run for the gateway, with their statistics, result and report

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'backtests',
        sa.Column('backtest_id', sa.UUID(), nullable=False),
        sa.Column('spec', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='the BacktestSpec as it was asked'),
        sa.Column('strategy', sa.Text(), nullable=False),
        sa.Column('strategy_id', sa.Text(), nullable=False),
        sa.Column('status', sa.Text(), nullable=False,
                  comment='QUEUED, RUNNING, DONE or FAILED'),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('statistics', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=True,
                  comment='foxtrot.backtest.result/1 document'),
        sa.Column('report_html', sa.Text(), nullable=True),
        sa.Column('requested_by', sa.Text(), nullable=False),
        sa.Column('created_at_ns', sa.BigInteger(), nullable=False),
        sa.Column('started_at_ns', sa.BigInteger(), nullable=True),
        sa.Column('finished_at_ns', sa.BigInteger(), nullable=True),
        sa.Column('elapsed_s', sa.Float(), nullable=True),
        sa.Column('records_per_s', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('backtest_id'),
        schema='strategy',
        comment="backtests run by the strategy service's worker processes, and their results",
    )
    op.create_index('ix_strategy_backtests_created', 'backtests',
                    [sa.text('created_at_ns DESC')], unique=False, schema='strategy')


def downgrade() -> None:
    op.drop_index('ix_strategy_backtests_created', table_name='backtests', schema='strategy')
    op.drop_table('backtests', schema='strategy')
