"""event start index

The staff's list of events and the public list of past events come a page at a time in the
order of their start (`starts_at`, then `id`); without this index each page sorted the whole
event table (bench/large_data.py).

Revision ID: f1c3d5e7a9b2
Revises: e4b7c2d91a36
Create Date: 2026-12-04 20:20:00.000000
"""
from alembic import op


revision = 'f1c3d5e7a9b2'
down_revision = 'e4b7c2d91a36'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_starts_at', ['starts_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_starts_at')
