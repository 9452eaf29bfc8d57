"""due times in the database: delivery retries and reminder runs queued by the relay's scheduler

Revision ID: b5d03f7e21c4
Revises: 7c1e2a9d4b10
Create Date: 2026-12-02 18:30:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = 'b5d03f7e21c4'
down_revision = '7c1e2a9d4b10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('queued_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retries', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_delivery_due_at', ['due_at'], unique=False)
    # Deliveries waiting for a Dramatiq retry are now the scheduler's: due at once.
    op.execute(sa.text("UPDATE delivery SET due_at = CURRENT_TIMESTAMP WHERE status = 'queued'"))
    with op.batch_alter_table('scheduled_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_column('wakeup_for')


def downgrade() -> None:
    with op.batch_alter_table('scheduled_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wakeup_for', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_column('queued_at')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_due_at')
        batch_op.drop_column('retries')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('due_at')
