"""fan-out by numbers: subscription.seq/address_no, delivery batches, deliveries hold integers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:05:00

Deliveries used to carry the subscription id and the address key as strings and four indexes; a million of them
took 12 s to write. Now a delivery carries two integers (``subscription_seq``, ``address_no``), is written in
batches (``delivery_batch``) whose cursor the workers claim from, and needs no index but the primary key when it
is written. Existing rows are carried over.
"""
import sqlalchemy as sa
from alembic import op

import alertsvc.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

LIVE = "('pending', 'active')"


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"

    # --- subscription: seq (unique number) and address_no (shared by the live subscriptions of one address)
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('address_no', sa.BigInteger(), nullable=True))
    if pg:
        op.execute("CREATE SEQUENCE subscription_seq AS bigint")
        op.execute("UPDATE subscription SET seq = nextval('subscription_seq')")
    else:
        op.execute("UPDATE subscription SET seq = rowid")
    op.execute(f"""UPDATE subscription SET address_no = (
        SELECT min(o.seq) FROM subscription o WHERE o.channel = subscription.channel
        AND o.address_key = subscription.address_key AND o.status IN {LIVE})
        WHERE address_key IS NOT NULL AND status IN {LIVE}""")
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint('uq_subscription_seq', ['seq'])
    if pg:
        op.execute("ALTER SEQUENCE subscription_seq OWNED BY subscription.seq")

    # --- delivery: integers instead of strings; the claim and per-alert indexes give way to batches
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscription_seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('address_no', sa.BigInteger(), nullable=True))
    op.execute("UPDATE delivery SET subscription_seq = (SELECT s.seq FROM subscription s "
               "WHERE s.id = delivery.subscription_id)")
    op.execute("UPDATE delivery SET address_no = (SELECT min(s.address_no) FROM subscription s "
               "WHERE s.address_key = delivery.address_key AND s.channel = delivery.channel) "
               "WHERE address_key IS NOT NULL")
    op.execute("DELETE FROM delivery WHERE subscription_seq IS NULL")  # its subscription no longer exists
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_created_at')
        batch_op.drop_index('ix_delivery_queued', sqlite_where=sa.text("status = 'queued'"),
                            postgresql_where=sa.text("status = 'queued'"))
        batch_op.drop_index('ix_delivery_alert_status')
        batch_op.alter_column('subscription_seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column('subscription_id')
        batch_op.drop_column('address_key')
        batch_op.create_index('ix_delivery_retry', ['next_attempt_at'], unique=False,
                              sqlite_where=sa.text("status = 'queued' AND next_attempt_at IS NOT NULL"),
                              postgresql_where=sa.text("status = 'queued' AND next_attempt_at IS NOT NULL"))
        batch_op.create_index('ix_delivery_sending', ['updated_at'], unique=False,
                              sqlite_where=sa.text("status = 'sending'"),
                              postgresql_where=sa.text("status = 'sending'"))

    # --- delivery_batch, one per (alert, kind, update) already written
    op.create_table('delivery_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('first_id', sa.BigInteger(), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('next_id', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_at', alertsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delivery_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_batch_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_batch_created_at'), ['created_at'], unique=False)
    op.execute("""INSERT INTO delivery_batch (alert_id, kind, update_id, first_id, last_id, next_id, total, created_at)
        SELECT alert_id, kind, update_id, min(id), max(id),
               coalesce(min(CASE WHEN status = 'queued' AND next_attempt_at IS NULL THEN id END), max(id) + 1),
               count(*), min(created_at)
        FROM delivery GROUP BY alert_id, kind, update_id""")


def downgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    with op.batch_alter_table('delivery_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_batch_created_at'))
        batch_op.drop_index(batch_op.f('ix_delivery_batch_alert_id'))
    op.drop_table('delivery_batch')

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subscription_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('address_key', sa.String(length=64), nullable=True))
    op.execute("UPDATE delivery SET subscription_id = (SELECT s.id FROM subscription s "
               "WHERE s.seq = delivery.subscription_seq)")
    op.execute("UPDATE delivery SET address_key = (SELECT s.address_key FROM subscription s "
               "WHERE s.seq = delivery.subscription_seq)")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_sending', sqlite_where=sa.text("status = 'sending'"),
                            postgresql_where=sa.text("status = 'sending'"))
        batch_op.drop_index('ix_delivery_retry',
                            sqlite_where=sa.text("status = 'queued' AND next_attempt_at IS NOT NULL"),
                            postgresql_where=sa.text("status = 'queued' AND next_attempt_at IS NOT NULL"))
        batch_op.alter_column('subscription_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_column('address_no')
        batch_op.drop_column('subscription_seq')
        batch_op.create_index('ix_delivery_alert_status', ['alert_id', 'status'], unique=False)
        batch_op.create_index('ix_delivery_queued', ['id'], unique=False, sqlite_where=sa.text("status = 'queued'"),
                              postgresql_where=sa.text("status = 'queued'"))
        batch_op.create_index('ix_delivery_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_constraint('uq_subscription_seq', type_='unique')
        batch_op.drop_column('address_no')
        batch_op.drop_column('seq')  # drops the sequence it owns on PostgreSQL
