"""initial schema

Revision ID: 0d0d76a8a731
Revises: 
Create Date: 2026-11-23 17:29:24.402522
"""
from alembic import op
import sqlalchemy as sa
import shared.db


revision = '0d0d76a8a731'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
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

    op.create_table('publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('title', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('stock >= 0', name='ck_publication_stock_not_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('publication_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('occupation', sa.String(length=200), nullable=True),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('telephone', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('membership', sa.String(length=10), nullable=False),
    sa.Column('member', sa.Boolean(), nullable=True),
    sa.Column('member_organisation_id', sa.Integer(), nullable=True),
    sa.Column('member_organisation_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('priced_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('web', 'post', 'email', 'fax')", name='ck_order_channel'),
    sa.CheckConstraint("membership IN ('verified', 'unverified')", name='ck_order_membership'),
    sa.CheckConstraint("status IN ('received', 'approved', 'invoiced', 'paid', 'shipped', 'cancelled')", name='ck_order_status'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('publication_order', schema=None) as batch_op:
        batch_op.create_index('ix_publication_order_status_created', ['status', 'created_at'], unique=False)

    op.create_table('billing_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('refers_to_id', sa.Integer(), nullable=True),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'credit_note') = (refers_to_id IS NOT NULL)", name='ck_billing_document_refers_to'),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name='ck_billing_document_kind'),
    sa.ForeignKeyConstraint(['order_id'], ['publication_order.id'], ),
    sa.ForeignKeyConstraint(['refers_to_id'], ['billing_document.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('refers_to_id'),
    sa.UniqueConstraint('year', 'sequence', name='uq_billing_document_year_sequence')
    )
    with op.batch_alter_table('billing_document', schema=None) as batch_op:
        batch_op.create_index('uq_billing_document_order_kind', ['order_id', 'kind'], unique=True)

    op.create_table('free_copy_ledger',
    sa.Column('member_organisation_id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('granted', sa.Integer(), nullable=False),
    sa.CheckConstraint('granted >= 0 AND granted <= 3', name='ck_free_copy_ledger_quota'),
    sa.ForeignKeyConstraint(['publication_id'], ['publication.id'], ),
    sa.PrimaryKeyConstraint('member_organisation_id', 'publication_id')
    )
    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('free_copies', sa.Integer(), nullable=True),
    sa.Column('paid_copies', sa.Integer(), nullable=True),
    sa.Column('postage_cents', sa.Integer(), nullable=True),
    sa.CheckConstraint('(free_copies IS NULL AND paid_copies IS NULL AND postage_cents IS NULL) OR (free_copies >= 0 AND paid_copies >= 0 AND free_copies + paid_copies = copies AND postage_cents >= 0)', name='ck_order_line_priced'),
    sa.CheckConstraint('copies > 0', name='ck_order_line_copies_positive'),
    sa.ForeignKeyConstraint(['order_id'], ['publication_order.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['publication_id'], ['publication.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'publication_id', name='uq_order_line_publication')
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    op.drop_table('free_copy_ledger')
    with op.batch_alter_table('billing_document', schema=None) as batch_op:
        batch_op.drop_index('uq_billing_document_order_kind')

    op.drop_table('billing_document')
    with op.batch_alter_table('publication_order', schema=None) as batch_op:
        batch_op.drop_index('ix_publication_order_status_created')

    op.drop_table('publication_order')
    op.drop_table('publication')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_unsent')

    op.drop_table('outbox_message')
    op.drop_table('document_counter')
