"""moderated events: approval before a seat, and rejected registrations

Revision ID: d3a9c4e1b7f2
Revises: c7e5a1f9d2b4
Create Date: 2026-12-03 16:00:00
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = 'd3a9c4e1b7f2'
down_revision = 'c7e5a1f9d2b4'
branch_labels = None
depends_on = None

#: a rejected registration, like a cancelled one, no longer holds the email's place
ACTIVE = "status NOT IN ('cancelled', 'rejected')"
ACTIVE_BEFORE = "status <> 'cancelled'"


def _active_email_index(batch_op, condition: str) -> None:
    batch_op.create_index('uq_registration_active_email', ['event_id', 'email'], unique=True,
                          postgresql_where=sa.text(condition), sqlite_where=sa.text(condition))


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_approval', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_at', shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_index('uq_registration_active_email')
        _active_email_index(batch_op, ACTIVE)


def downgrade() -> None:
    op.execute("UPDATE registration SET status = 'cancelled' WHERE status = 'rejected'")
    # without moderation, someone awaiting a decision waits on the waiting list, where staff can promote them
    op.execute("UPDATE registration SET status = 'waitlisted' WHERE status = 'pending_approval'")
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index('uq_registration_active_email')
        _active_email_index(batch_op, ACTIVE_BEFORE)
        batch_op.drop_column('decided_at')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('requires_approval')
