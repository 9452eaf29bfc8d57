"""webhooks: endpoints staff register, and the log of what was posted to them

Revision ID: d81f4a6c2e90
Revises: b5d03f7e21c4
Create Date: 2026-12-03 12:50:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = 'd81f4a6c2e90'
down_revision = 'b5d03f7e21c4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_endpoint',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('event_types', sa.JSON(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_key', sa.String(length=200), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('due_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('queued_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('retries', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint_id', 'event_key', name='uq_webhook_delivery_endpoint_event'),
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_webhook_delivery_created', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_endpoint')
