"""risk schema: limits, trading states, their audit trails, and pre-trade decisions

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:00:00.000000
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
        'limits',
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('value', sa.Text(), nullable=True, comment='null: the limit is switched off'),
        sa.Column('updated_at_ns', sa.BigInteger(), nullable=False),
        sa.Column('updated_by', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
        schema='risk',
        comment='every limit set at run time, by name: what is in force after a restart',
    )
    op.create_table(
        'limit_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('old_value', sa.Text(), nullable=True),
        sa.Column('new_value', sa.Text(), nullable=True),
        sa.Column('changed_by', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('ts_changed', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        schema='risk',
        comment="audit trail: every change of a limit's value, who made it and why",
    )
    op.create_index('ix_risk_limit_changes_name_id', 'limit_changes',
                    ['name', sa.text('id DESC')], unique=False, schema='risk')
    op.create_table(
        'trading_states',
        sa.Column('scope', sa.Text(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_by', sa.Text(), nullable=False),
        sa.Column('ts_changed', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('scope', 'key'),
        schema='risk',
        comment='the state of every scope ever switched (a scope not here is ACTIVE)',
    )
    op.create_table(
        'trading_state_changes',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('scope', sa.Text(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('old_state', sa.Text(), nullable=False),
        sa.Column('new_state', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_by', sa.Text(), nullable=False),
        sa.Column('ts_changed', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        schema='risk',
        comment='audit trail: every trading state switch, by a person or by a breached limit',
    )
    op.create_table(
        'decisions',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('client_order_id', sa.Text(), nullable=False),
        sa.Column('strategy_id', sa.Text(), nullable=False),
        sa.Column('account_id', sa.Text(), nullable=False),
        sa.Column('instrument_id', sa.Text(), nullable=False),
        sa.Column('command', sa.Text(), nullable=False, comment='SubmitOrder or ModifyOrder'),
        sa.Column('order', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='the command as risk received it'),
        sa.Column('approved', sa.Boolean(), nullable=False),
        sa.Column('code', sa.Text(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('rules', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
                  comment='[{"rule": ..., "code": ... or null}]'),
        sa.Column('latency_ns', sa.BigInteger(), nullable=False,
                  comment='time the checks took'),
        sa.Column('ts_decided', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        schema='risk',
        comment="every pre-trade decision: the order, the verdict and each rule's result",
    )
    op.create_index('ix_risk_decisions_client_order_id', 'decisions', ['client_order_id'],
                    unique=False, schema='risk')
    op.create_index('ix_risk_decisions_strategy_id_id', 'decisions',
                    ['strategy_id', sa.text('id DESC')], unique=False, schema='risk')
    # Denials are few among many approvals: asking for them reads only them.
    op.create_index('ix_risk_decisions_denied', 'decisions', ['id'], unique=False,
                    schema='risk', postgresql_where=sa.text('NOT approved'))


def downgrade() -> None:
    op.drop_index('ix_risk_decisions_denied', table_name='decisions', schema='risk')
    op.drop_index('ix_risk_decisions_strategy_id_id', table_name='decisions', schema='risk')
    op.drop_index('ix_risk_decisions_client_order_id', table_name='decisions', schema='risk')
    op.drop_table('decisions', schema='risk')
    op.drop_table('trading_state_changes', schema='risk')
    op.drop_table('trading_states', schema='risk')
    op.drop_index('ix_risk_limit_changes_name_id', table_name='limit_changes', schema='risk')
    op.drop_table('limit_changes', schema='risk')
    op.drop_table('limits', schema='risk')
