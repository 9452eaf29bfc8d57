"""initial schema

Revision ID: 632ddab6176d
Revises: 
Create Date: 2026-11-23 17:18:37.625429
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = '632ddab6176d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('message_type', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('template', sa.String(length=120), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_recipient'), ['recipient'], unique=False)
        batch_op.create_index('ix_delivery_status_created', ['status', 'created_at'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('message_type', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_unsent', ['sent_at', 'created_at'], unique=False)

    op.create_table('registrant',
    sa.Column('registration_id', sa.String(length=64), nullable=False),
    sa.Column('event_slug', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('person', sa.JSON(), nullable=False),
    sa.Column('manage_url', sa.String(length=500), nullable=False),
    sa.Column('join_url', sa.String(length=500), nullable=True),
    sa.Column('as_of', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('registration_id')
    )
    with op.batch_alter_table('registrant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrant_event_slug'), ['event_slug'], unique=False)

    op.create_table('scheduled_event',
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('starts_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remind_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('as_of', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('wakeup_for', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_for', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('slug')
    )


def downgrade() -> None:
    op.drop_table('scheduled_event')
    with op.batch_alter_table('registrant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrant_event_slug'))

    op.drop_table('registrant')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_unsent')

    op.drop_table('outbox_message')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_status_created')
        batch_op.drop_index(batch_op.f('ix_delivery_recipient'))

    op.drop_table('delivery')
