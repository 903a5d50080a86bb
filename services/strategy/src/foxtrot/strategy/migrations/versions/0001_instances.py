"""strategy schema: hosted strategy instances and their saved state

Revision ID: 0001
Revises:
Create Date: 2026-11-22 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'instances',
        sa.Column('strategy_id', sa.Text(), nullable=False),
        sa.Column('strategy', sa.Text(), nullable=False,
                  comment='as it was named: entry point or path'),
        sa.Column('strategy_path', sa.Text(), nullable=False, comment='module:Class'),
        sa.Column('config', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('desired_state', sa.Text(), nullable=False, comment='RUNNING or STOPPED'),
        sa.Column('state', sa.Text(), nullable=False,
                  comment='READY, RUNNING, STOPPED or FAULTED'),
        sa.Column('fault', sa.Text(), nullable=True,
                  comment='handler and error of the last fault'),
        sa.Column('saved_state', postgresql.JSONB(astext_type=sa.Text()), nullable=True,
                  comment="the runtime's save(), the stream position it holds, its open orders"),
        sa.Column('created_at_ns', sa.BigInteger(), nullable=False),
        sa.Column('started_at_ns', sa.BigInteger(), nullable=True),
        sa.Column('updated_at_ns', sa.BigInteger(), nullable=False),
        sa.Column('state_saved_at_ns', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('strategy_id'),
        schema='strategy',
        comment='every hosted strategy instance: rebuilt, restored and restarted at start',
    )


def downgrade() -> None:
    op.drop_table('instances', schema='strategy')
