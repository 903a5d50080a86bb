"""risk schema: each decision names the command it answered

A decision was found again after a restart by its order's message id, which is the
command's own only for a lone order: the members of an order list carry ids of their own,
so a list delivered again after a restart was judged anew instead of answered alike.
``command_id`` is the id of the command risk received (the list's, for its members).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('decisions',
                  sa.Column('command_id', postgresql.UUID(as_uuid=True), nullable=True,
                            comment="the id of the command risk received: a list's for its members"),
                  schema='risk')
    op.execute("UPDATE risk.decisions SET command_id = CAST(\"order\"->>'message_id' AS UUID)")
    op.alter_column('decisions', 'command_id', nullable=False, schema='risk')


def downgrade() -> None:
    op.drop_column('decisions', 'command_id', schema='risk')
