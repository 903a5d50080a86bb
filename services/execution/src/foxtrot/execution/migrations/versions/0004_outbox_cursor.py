"""execution schema: the outbox becomes a cursor over the event log

Events were marked published one row at a time, which rewrote every event (and each of its
index entries) once more. Events are published in log order, so how far the log has been
published without a gap is one number: ``outbox.published_through``. Everything after it is
published again at start (JetStream drops what it already has by message id).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbox',
        sa.Column('one', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('published_through', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('one'),
        sa.CheckConstraint('one', name='outbox_has_one_row'),
        schema='execution',
        comment='how far the event log is published without a gap',
    )
    op.execute(
        "INSERT INTO execution.outbox (published_through) SELECT COALESCE("
        " (SELECT MIN(seq) - 1 FROM execution.order_events WHERE published IS FALSE),"
        " (SELECT MAX(seq) FROM execution.order_events), 0)"
    )
    op.drop_index('ix_execution_order_events_unpublished', table_name='order_events',
                  schema='execution')
    op.drop_column('order_events', 'published', schema='execution')


def downgrade() -> None:
    op.add_column('order_events',
                  sa.Column('published', sa.Boolean(), server_default='true', nullable=False),
                  schema='execution')
    op.execute(
        "UPDATE execution.order_events SET published = FALSE"
        " WHERE seq > (SELECT published_through FROM execution.outbox)"
    )
    op.alter_column('order_events', 'published', server_default='false', schema='execution')
    op.create_index('ix_execution_order_events_unpublished', 'order_events', ['seq'],
                    unique=False, schema='execution',
                    postgresql_where=sa.text('published IS FALSE'))
    op.drop_table('outbox', schema='execution')
