"""login security: sign-in lockout counters on staff (and for unknown usernames), rate-limit counters in the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:30:00

* ``staff.failed_logins`` / ``last_failed_at`` / ``locked_until``: consecutive wrong passwords and the lockout.
* ``login_failure``: the same counters for usernames that are not accounts, keyed by an HMAC of the name.
* ``rate_limit_counter``: flask-limiter's fixed-window counters when ``ratelimit.storage_uri`` is empty (the
  default), so every process of a deployment counts against one budget.
"""
import sqlalchemy as sa
from alembic import op

import alertsvc.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_failed_at', alertsvc.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_until', alertsvc.db.UTCDateTime(timezone=True), nullable=True))

    op.create_table('login_failure',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', alertsvc.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', alertsvc.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_hash')
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_last_failed_at'), ['last_failed_at'], unique=False)

    op.create_table('rate_limit_counter',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_counter_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counter_expires_at'))
    op.drop_table('rate_limit_counter')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_last_failed_at'))
    op.drop_table('login_failure')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('last_failed_at')
        batch_op.drop_column('failed_logins')
