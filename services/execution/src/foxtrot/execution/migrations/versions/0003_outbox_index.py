"""execution schema: a partial index over the unpublished events (the outbox)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Without it, finding what is left to publish scans the whole event log.
    op.create_index('ix_execution_order_events_unpublished', 'order_events', ['seq'],
                    unique=False, schema='execution',
                    postgresql_where=sa.text('published IS FALSE'))


def downgrade() -> None:
    op.drop_index('ix_execution_order_events_unpublished', table_name='order_events',
                  schema='execution')
